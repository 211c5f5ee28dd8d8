"""Loads a .pth written by `minimind export pth` the way MiniMind's scripts do (torch.load, then
load_state_dict strict) into the PyTorch port tools/minimind_torch.py, runs `input_ids` from
INPUTS.safetensors and prints one JSON line {"ok", "dtype", "max_rel_diff", "keys"} against its
`logits` (exit 1 when max_rel_diff >= --rtol).

Usage: .venv/bin/python tools/check_pth.py MODEL.pth CONFIG.json INPUTS.safetensors [--style head|v1] [--rtol 1e-4]
CONFIG.json: our config fields (hidden_size, num_hidden_layers, ..., qk_norm, use_moe, moe_style, ...).
"""
import argparse
import json
import os
import sys

import torch
from safetensors import safe_open

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minimind_torch import MiniMind, default_config, hf_to_v1_name  # noqa: E402

KEYS = ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'intermediate_size',
        'vocab_size', 'rms_norm_eps', 'rope_theta', 'max_position_embeddings', 'use_moe', 'num_experts_per_tok',
        'n_routed_experts', 'n_shared_experts', 'norm_topk_prob', 'moe_style', 'qk_norm', 'seq_aux']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('pth')
    ap.add_argument('config')
    ap.add_argument('inputs')
    ap.add_argument('--style', default='head', choices=['head', 'v1'])
    ap.add_argument('--rtol', type=float, default=1e-4)
    args = ap.parse_args()
    ours = json.load(open(args.config))
    cfg = default_config(**{k: ours[k] for k in KEYS if k in ours}, rope_interleaved=args.style == 'v1')
    model = MiniMind(cfg).float()
    sd = torch.load(args.pth, map_location='cpu', weights_only=True)
    dtype = str(next(iter(sd.values())).dtype)
    out_key = 'output.weight' if args.style == 'v1' else 'lm_head.weight'
    embed_key = 'tok_embeddings.weight' if args.style == 'v1' else 'model.embed_tokens.weight'
    assert torch.equal(sd[out_key], sd[embed_key]), 'the tied output projection differs from the embedding'
    del sd[out_key]
    if args.style == 'v1':
        names = {hf_to_v1_name(k): k for k in model.state_dict()}
        sd = {names[k]: v for k, v in sd.items()}
    model.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
    with safe_open(args.inputs, framework='pt') as f:
        input_ids = f.get_tensor('input_ids').long()
        expected = f.get_tensor('logits').float()
    with torch.no_grad():
        logits, _, _ = model(input_ids, training=False)
    d = (logits - expected).abs().max().item()
    rel = d / max(expected.abs().max().item(), 1e-30)
    ok = rel < args.rtol
    print(json.dumps({'ok': ok, 'dtype': dtype, 'max_rel_diff': rel, 'keys': len(sd) + 1}))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
