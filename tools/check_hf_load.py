"""Loads a Hugging Face model folder with transformers (AutoModelForCausalLM, float32), runs the
`input_ids` of a fixture file through it and prints one JSON line:

  {"ok": true, "max_abs_diff": ..., "max_rel_diff": ..., "greedy_match": true, "greedy_ids": [...],
   "expected_greedy_ids": [...], "architecture": "LlamaForCausalLM"}

max_rel_diff = max|logits - expected| / max|expected|. Greedy: generate from the first
`greedy_prompt_len` ids of row 0 (fixture metadata, default 5) with do_sample=False and no eos stop,
as many tokens as `greedy_ids` holds. Exit status 0 when ok (greedy ids match and max_rel_diff <
--rtol), 1 otherwise, 2 on bad usage.

Usage: .venv/bin/python tools/check_hf_load.py <model_folder> <inputs.safetensors> [--rtol 1e-4]
"""

import argparse
import json
import sys

import torch
from safetensors import safe_open


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model_folder')
    ap.add_argument('inputs')
    ap.add_argument('--rtol', type=float, default=1e-4)
    args = ap.parse_args()

    from transformers import AutoModelForCausalLM, GenerationConfig

    with safe_open(args.inputs, framework='pt') as f:
        meta = f.metadata() or {}
        keys = set(f.keys())
        if 'input_ids' not in keys:
            print(json.dumps({'ok': False, 'error': f'{args.inputs}: no input_ids tensor'}))
            sys.exit(2)
        input_ids = f.get_tensor('input_ids').long()
        expected = f.get_tensor('logits').float() if 'logits' in keys else None
        expected_greedy = f.get_tensor('greedy_ids').long() if 'greedy_ids' in keys else None
    prompt_len = int(meta.get('greedy_prompt_len', '5'))

    model = AutoModelForCausalLM.from_pretrained(args.model_folder, dtype=torch.float32)
    model.eval()
    res = {'architecture': type(model).__name__}
    with torch.no_grad():
        logits = model(input_ids=input_ids).logits.float()
    ok = True
    if expected is not None:
        if tuple(logits.shape) != tuple(expected.shape):
            res['error'] = f'logits shape {list(logits.shape)} != expected {list(expected.shape)}'
            ok = False
        else:
            d = (logits - expected).abs().max().item()
            res['max_abs_diff'] = d
            res['max_rel_diff'] = d / max(expected.abs().max().item(), 1e-30)
            ok = ok and res['max_rel_diff'] < args.rtol
    if expected_greedy is not None:
        n = expected_greedy.numel()
        gc = GenerationConfig(do_sample=False, max_new_tokens=n, min_new_tokens=0, eos_token_id=None,
                              pad_token_id=0, bos_token_id=None, use_cache=True)
        with torch.no_grad():
            out = model.generate(input_ids[:1, :prompt_len], generation_config=gc,
                                 attention_mask=torch.ones(1, prompt_len, dtype=torch.long))
        got = out[0, prompt_len:].tolist()
        res['greedy_ids'] = got
        res['expected_greedy_ids'] = expected_greedy.tolist()
        res['greedy_match'] = got == expected_greedy.tolist()
        ok = ok and res['greedy_match']
    res = {'ok': ok, **res}
    print(json.dumps(res))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
