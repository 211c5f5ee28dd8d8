"""PEFT cross-checks for LoRA adapters (peft + transformers, float32).

  check_peft.py load MODEL_DIR ADAPTER_DIR INPUTS.safetensors
      PeftModel.from_pretrained(AutoModelForCausalLM(MODEL_DIR), ADAPTER_DIR); runs `input_ids` and
      prints {"ok", "max_rel_diff", "lora_modules"} against the `logits` in INPUTS (exit 1 when
      max_rel_diff >= --rtol).
  check_peft.py make MODEL_DIR OUT_DIR INPUTS.safetensors --r 4 --alpha 8 --targets q_proj,v_proj
      get_peft_model with random A and B (init_lora_weights=False), save_pretrained(OUT_DIR), and
      writes OUT_DIR/expected.safetensors with input_ids and PEFT's logits.
"""
import argparse
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import save_file


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['load', 'make'])
    ap.add_argument('model_dir')
    ap.add_argument('adapter_dir')
    ap.add_argument('inputs')
    ap.add_argument('--rtol', type=float, default=1e-4)
    ap.add_argument('--r', type=int, default=4)
    ap.add_argument('--alpha', type=float, default=8)
    ap.add_argument('--targets', default='q_proj,v_proj')
    args = ap.parse_args()

    from transformers import AutoModelForCausalLM
    from peft import LoraConfig, PeftModel, get_peft_model

    with safe_open(args.inputs, framework='pt') as f:
        input_ids = f.get_tensor('input_ids').long()
        expected = f.get_tensor('logits').float() if 'logits' in f.keys() else None
    base = AutoModelForCausalLM.from_pretrained(args.model_dir, dtype=torch.float32)
    if args.mode == 'make':
        torch.manual_seed(0)
        cfg = LoraConfig(r=args.r, lora_alpha=args.alpha, target_modules=args.targets.split(','), lora_dropout=0.0,
                         init_lora_weights=False, task_type='CAUSAL_LM')
        model = get_peft_model(base, cfg)
        model.eval()
        with torch.no_grad():
            logits = model(input_ids=input_ids).logits.float()
        model.save_pretrained(args.adapter_dir)
        save_file({'input_ids': input_ids.int(), 'logits': logits.contiguous()}, f'{args.adapter_dir}/expected.safetensors')
        print(json.dumps({'ok': True}))
        return
    model = PeftModel.from_pretrained(base, args.adapter_dir)
    model.eval()
    n = sum(1 for name, _ in model.named_modules() if name.endswith('lora_A.default'))
    with torch.no_grad():
        logits = model(input_ids=input_ids).logits.float()
    d = (logits - expected).abs().max().item()
    rel = d / max(expected.abs().max().item(), 1e-30)
    ok = rel < args.rtol and n > 0
    print(json.dumps({'ok': ok, 'max_rel_diff': rel, 'lora_modules': n}))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
