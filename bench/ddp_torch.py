#!/usr/bin/env python3
"""PyTorch DDP reference for `minimind launch`: the TinyLM of torch_minimind.py (a MiniMind-shaped
decoder written from scratch, imported from --script) wrapped in DistributedDataParallel, trained
with bf16 autocast, fp32 master weights, AdamW, grad-clip 1.0, on random tokens (a different fixed
batch per rank). Run under torchrun (or `python3 -m torch.distributed.run`) with one process per
GPU; NCCL all-reduces gradients in 25 MiB buckets overlapped with backward (DDP's defaults).
Prints one JSON line on rank 0: global tokens/s over --steps timed steps after --warmup.

  python3 -m torch.distributed.run --nproc_per_node 2 bench/ddp_torch.py --batch 64 --seq 512 \
      --d-model 768 --n-layers 16 [--script .anchors/torch_minimind.py] [--compile]
"""
import argparse
import importlib.util
import json
import os
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", default=".anchors/torch_minimind.py")
    ap.add_argument("--batch", type=int, default=64, help="per GPU")
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--vocab", type=int, default=6400)
    ap.add_argument("--d-model", type=int, default=768)
    ap.add_argument("--n-layers", type=int, default=16)
    ap.add_argument("--n-heads", type=int, default=16)
    ap.add_argument("--n-kv-heads", type=int, default=8)
    ap.add_argument("--compile", action="store_true")
    cfg = ap.parse_args()

    spec = importlib.util.spec_from_file_location("torch_minimind", cfg.script)
    tm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tm)
    # the TinyLM config torch_minimind.py's argparse would build (dense, SDPA attention)
    model_cfg = argparse.Namespace(vocab=cfg.vocab, d_model=cfg.d_model, n_layers=cfg.n_layers, n_heads=cfg.n_heads,
                                   n_kv_heads=cfg.n_kv_heads, norm_eps=1e-5, rope_theta=1e4, max_len=cfg.seq + 1,
                                   moe=False, n_experts=4, top_k=2, n_shared=1, moe_aux_alpha=0.1, attn="sdpa")

    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    cuda = torch.cuda.is_available()  # without a GPU (checking this script): gloo on the CPU
    dev = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(1234)  # same initial weights on every rank (DDP also broadcasts rank 0's)
    model = tm.TinyLM(model_cfg).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    ddp = DDP(model, device_ids=[local_rank] if cuda else None)
    fwd = torch.compile(ddp) if cfg.compile else ddp
    g = torch.Generator().manual_seed(1234 + rank)
    data = torch.randint(0, cfg.vocab, (cfg.batch, cfg.seq + 1), generator=g).to(dev)
    x, y = data[:, :-1], data[:, 1:]
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, betas=(0.9, 0.95), weight_decay=0.1)
    losses = []
    t0 = None

    def sync():
        if cuda:
            torch.cuda.synchronize()

    for step in range(cfg.warmup + cfg.steps):
        if step == cfg.warmup:
            sync()
            dist.barrier()
            t0 = time.perf_counter()
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16):
            logits, _ = fwd(x)
        loss = F.cross_entropy(logits.float().reshape(-1, cfg.vocab), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(round(loss.item(), 4))
    sync()
    dt = time.perf_counter() - t0
    if rank == 0:
        ntok = world * cfg.batch * cfg.seq * cfg.steps
        print(json.dumps({"impl": "pytorch-ddp" + ("-compile" if cfg.compile else ""), "world_size": world, "batch_per_gpu": cfg.batch,
                          "seq": cfg.seq, "params": n_params, "tokens_per_second": ntok / dt, "ms_per_step": 1000 * dt / cfg.steps,
                          "loss_first": losses[0], "loss_last": losses[-1], "torch": torch.__version__,
                          "nccl": ".".join(map(str, torch.cuda.nccl.version())) if cuda else None, "gpu": torch.cuda.get_device_name(0) if cuda else None}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
