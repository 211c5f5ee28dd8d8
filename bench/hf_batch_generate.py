#!/usr/bin/env python3
"""The PyTorch reference for bench/serve.ts: Hugging Face transformers' generate() on the very model folder
the server serves (transformers loads it as LlamaForCausalLM / Qwen3ForCausalLM), greedy, on the same token-id
prompts. For each batch size B the prompts run as one static batch (left-padded, attention mask), which is how
a PyTorch user batches requests without a serving engine; B = 1 run one after another is MiniMind's own
server (one request at a time). Prints one JSON line per batch size:
  {"batch": B, "tokens_per_second": ..., "ttft_ms": ... (a max_new_tokens=1 call), "seconds": ...}

  python hf_batch_generate.py --model DIR --prompts prompts.json --new-tokens 64 --batches 1,4,16 --threads 2 [--device cuda]
"""
import argparse, json, time, warnings

import torch
from transformers import AutoModelForCausalLM

warnings.filterwarnings("ignore")
ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--prompts", required=True, help="JSON file: a list of token-id lists")
ap.add_argument("--new-tokens", type=int, default=64)
ap.add_argument("--batches", default="1,4,16")
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--device", default="cpu", help="cpu or cuda")
a = ap.parse_args()
if a.threads:
    torch.set_num_threads(a.threads)

model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32).to(a.device).eval()
prompts = json.load(open(a.prompts))


def batch(rows):
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):  # left padding, so every row's last token is at the end
        ids[i, width - len(r):] = torch.tensor(r)
        mask[i, width - len(r):] = 1
    return ids, mask


def generate(rows, n):
    ids, mask = batch(rows)
    ids, mask = ids.to(a.device), mask.to(a.device)
    if a.device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=0)
    if a.device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out.shape[1] - ids.shape[1]


generate(prompts[:1], 4)  # warm-up
for b in [int(x) for x in a.batches.split(",")]:
    rows = prompts[:b]
    ttft, _ = generate(rows, 1)
    seconds, n = generate(rows, a.new_tokens)
    print(json.dumps({"batch": b, "tokens_per_second": round(b * n / seconds, 1), "ttft_ms": round(ttft * 1000, 1), "seconds": round(seconds, 2),
                      "new_tokens": n, "torch": torch.__version__, "threads": torch.get_num_threads(), "device": a.device}), flush=True)
