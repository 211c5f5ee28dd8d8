"""Writes a LoRA adapter the way MiniMind does (model/model_lora.py: apply_lora + save_lora) for the
tests of `minimind import --lora`: loads a base .pth (from `minimind export pth`) into the PyTorch port
tools/minimind_torch.py, wraps every square nn.Linear with LoRA(A: in->r, B: r->out), y = Wx + B(A(x))
(no scaling), draws A ~ N(0, 0.02) and, so that the adapter matters, B ~ N(0, 0.1), saves
{module}.lora.A.weight / .lora.B.weight in fp16 (v1 module names with --style v1), and writes
OUT_DIR/expected.safetensors with input_ids and the logits of the model with the adapter.

Usage: .venv/bin/python tools/make_minimind_lora.py BASE.pth CONFIG.json INPUTS.safetensors OUT.pth [--style head|v1] [--rank 16]
"""
import argparse
import json
import os
import sys

import torch
from torch import nn
from safetensors import safe_open
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_pth import KEYS  # noqa: E402
from minimind_torch import MiniMind, default_config, hf_to_v1_name  # noqa: E402


class LoRA(nn.Module):
    def __init__(self, in_features, out_features, rank):
        super().__init__()
        self.A = nn.Linear(in_features, rank, bias=False)
        self.B = nn.Linear(rank, out_features, bias=False)
        self.A.weight.data.normal_(mean=0.0, std=0.02)
        self.B.weight.data.normal_(mean=0.0, std=0.1)

    def forward(self, x):
        return self.B(self.A(x))


def apply_lora(model, rank):
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and module.weight.shape[0] == module.weight.shape[1]:
            lora = LoRA(module.weight.shape[1], module.weight.shape[0], rank)
            setattr(module, 'lora', lora)
            original = module.forward

            def forward_with_lora(x, layer1=original, layer2=lora):
                return layer1(x) + layer2(x)
            module.forward = forward_with_lora


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('base')
    ap.add_argument('config')
    ap.add_argument('inputs')
    ap.add_argument('out')
    ap.add_argument('--style', default='head', choices=['head', 'v1'])
    ap.add_argument('--rank', type=int, default=16)
    args = ap.parse_args()
    ours = json.load(open(args.config))
    cfg = default_config(**{k: ours[k] for k in KEYS if k in ours}, rope_interleaved=args.style == 'v1')
    model = MiniMind(cfg).float()
    sd = torch.load(args.base, map_location='cpu', weights_only=True)
    del sd['output.weight' if args.style == 'v1' else 'lm_head.weight']
    if args.style == 'v1':
        names = {hf_to_v1_name(k): k for k in model.state_dict()}
        sd = {names[k]: v for k, v in sd.items()}
    model.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
    torch.manual_seed(0)
    apply_lora(model, args.rank)
    state = {}
    for name, module in model.named_modules():
        if hasattr(module, 'lora'):
            key = hf_to_v1_name(name + '.weight')[:-len('.weight')] if args.style == 'v1' else name
            state.update({f'{key}.lora.{k}': v.half() for k, v in module.lora.state_dict().items()})
    torch.save(state, args.out)
    # The function the saved (fp16) adapter computes.
    with torch.no_grad():
        for module in model.modules():
            if hasattr(module, 'lora'):
                module.lora.A.weight.copy_(module.lora.A.weight.half().float())
                module.lora.B.weight.copy_(module.lora.B.weight.half().float())
    with safe_open(args.inputs, framework='pt') as f:
        input_ids = f.get_tensor('input_ids').long()
    with torch.no_grad():
        logits, _, _ = model(input_ids, training=False)
    save_file({'input_ids': input_ids.int(), 'logits': logits.contiguous()}, os.path.join(os.path.dirname(args.out), 'expected.safetensors'))
    print(json.dumps({'ok': True, 'modules': sum(1 for m in model.modules() if hasattr(m, 'lora'))}))


if __name__ == '__main__':
    main()
