"""Writes the model parity fixtures test/fixtures/model-<variant>.safetensors and the v1 original-format
checkpoint test/fixtures/v1-original.pth (+ v1-original-expected.safetensors). Deterministic: fixed
seeds, float64 compute; re-running rewrites byte-identical files. Format: tools/README.md.

Usage: .venv/bin/python tools/gen_model_fixtures.py [--out test/fixtures]
"""

import argparse
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minimind_torch import MiniMind, default_config, init_weights, interleaved_to_rotate_half_rows  # noqa: E402

B, T, V = 2, 16, 256
PROMPT_LEN, N_NEW = 5, 8
# A routing decision or greedy argmax closer than this could flip under float32 rounding in the
# engine under test; such seeds are skipped.
MIN_ROUTE_MARGIN = 1e-3
MIN_GREEDY_MARGIN = 1e-3
MIN_DISTINCT = 5

# Tiny versions of each era. Head ratios follow the released models (v1 16q/8kv = 2:1, minimind2
# 8q/2kv = 4:1, minimind-3 8q/4kv = 2:1); FFN sizes follow each era's formula for the dense models.
# The MoE experts use an explicit intermediate_size of 64 (MiniMind's `hidden_dim` /
# `moe_intermediate_size` override) to keep the files small. Aux coefficients are raised from the
# defaults (0.01 / 5e-4) to 0.1 so that the aux-loss gradient stands well above float32 noise.
VARIANTS = {
    'v1': dict(num_attention_heads=4, num_key_value_heads=2, rope_theta=1e4, rms_norm_eps=1e-5),
    'v1-moe': dict(num_attention_heads=4, num_key_value_heads=2, rope_theta=1e4, rms_norm_eps=1e-5,
                   use_moe=True, moe_style='deepseek', n_routed_experts=4, n_shared_experts=1,
                   num_experts_per_tok=2, norm_topk_prob=True, aux_loss_alpha=0.1, seq_aux=True,
                   intermediate_size=64),
    'minimind2': dict(num_attention_heads=4, num_key_value_heads=1, rope_theta=1e6, rms_norm_eps=1e-5),
    'minimind3': dict(num_attention_heads=4, num_key_value_heads=2, rope_theta=1e6, rms_norm_eps=1e-6, qk_norm=True),
    'minimind3-moe': dict(num_attention_heads=4, num_key_value_heads=2, rope_theta=1e6, rms_norm_eps=1e-6, qk_norm=True,
                          use_moe=True, moe_style='qwen3', n_routed_experts=4, n_shared_experts=0,
                          num_experts_per_tok=1, norm_topk_prob=True, router_aux_loss_coef=0.1,
                          intermediate_size=64),
}
COMMON = dict(hidden_size=32, num_hidden_layers=2, vocab_size=V, max_position_embeddings=64)


def config_json(variant, cfg):
    """The config in MiniMind / HF field names (what the TS model reads)."""
    c = {
        'variant': variant,
        'hidden_size': cfg['hidden_size'],
        'num_hidden_layers': cfg['num_hidden_layers'],
        'num_attention_heads': cfg['num_attention_heads'],
        'num_key_value_heads': cfg['num_key_value_heads'],
        'head_dim': cfg['head_dim'],
        'intermediate_size': cfg['intermediate_size'],
        'vocab_size': cfg['vocab_size'],
        'rms_norm_eps': cfg['rms_norm_eps'],
        'rope_theta': cfg['rope_theta'],
        'max_position_embeddings': cfg['max_position_embeddings'],
        'tie_word_embeddings': True,
        'hidden_act': 'silu',
        'qk_norm': cfg['qk_norm'],
        'rope_interleaved': cfg['rope_interleaved'],
        'use_moe': cfg['use_moe'],
        'moe_style': cfg['moe_style'] if cfg['use_moe'] else None,
        'num_experts_per_tok': cfg['num_experts_per_tok'] if cfg['use_moe'] else None,
        'n_routed_experts': cfg['n_routed_experts'] if cfg['use_moe'] else None,
        'n_shared_experts': cfg['n_shared_experts'] if cfg['use_moe'] else None,
        'norm_topk_prob': cfg['norm_topk_prob'] if cfg['use_moe'] else None,
    }
    if cfg['use_moe'] and cfg['moe_style'] == 'deepseek':
        c['aux_loss_alpha'] = cfg['aux_loss_alpha']
        c['seq_aux'] = cfg['seq_aux']
    if cfg['use_moe'] and cfg['moe_style'] == 'qwen3':
        c['router_aux_loss_coef'] = cfg['router_aux_loss_coef']
        c['num_experts'] = cfg['n_routed_experts']
        c['moe_intermediate_size'] = cfg['intermediate_size']
    return c


def make_inputs(seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, V, (B, T), generator=g)
    labels = ids.clone()
    labels[0, :4] = -100      # a masked prompt (SFT-style)
    labels[1, 6] = -100       # a hole in the middle
    labels[1, 12:] = -100     # padding at the end
    return ids, labels


def run_variant(variant, seed):
    cfg = default_config(**COMMON, **VARIANTS[variant])
    model = MiniMind(cfg).double()
    init_weights(model, seed)
    ids, labels = make_inputs(seed + 1)
    for m in model.modules():
        if hasattr(m, 'last_topk_margin'):
            m.last_topk_margin = float('inf')
    logits, aux, _ = model(ids, training=True)
    loss = MiniMind.lm_loss(logits, labels)
    total = loss + aux
    model.zero_grad()
    total.backward()
    greedy, g_margin = model.greedy(ids[:1, :PROMPT_LEN], N_NEW, use_cache=True)
    greedy_nc, _ = model.greedy(ids[:1, :PROMPT_LEN], N_NEW, use_cache=False)
    assert torch.equal(greedy, greedy_nc), f'{variant}: KV-cache decode differs from full recompute'
    r_margin = min([m.last_topk_margin for m in model.modules() if hasattr(m, 'last_topk_margin')], default=float('inf'))
    return cfg, model, ids, labels, logits, loss, aux, total, greedy, g_margin, r_margin


def write_variant(variant, out_dir, base_seed):
    for attempt in range(50):
        seed = base_seed + 1000 * attempt
        cfg, model, ids, labels, logits, loss, aux, total, greedy, g_margin, r_margin = run_variant(variant, seed)
        # also want a varied greedy sequence, so a broken KV cache cannot hide behind a repeated token
        if g_margin >= MIN_GREEDY_MARGIN and r_margin >= MIN_ROUTE_MARGIN and len(set(greedy.tolist())) >= MIN_DISTINCT:
            break
    else:
        raise RuntimeError(f'{variant}: no seed with safe margins')
    t = {}
    for name, p in model.named_parameters():
        t[f'param.{name}'] = p.detach().float().contiguous()
        t[f'grad.{name}'] = p.grad.detach().float().contiguous()
    t['input_ids'] = ids.to(torch.int32)
    t['labels'] = labels.to(torch.int32)
    t['logits'] = logits.detach().float()
    t['loss'] = loss.detach().float().reshape(())
    t['aux_loss'] = aux.detach().float().reshape(())
    t['total_loss'] = total.detach().float().reshape(())
    t['greedy_ids'] = greedy.to(torch.int32)
    meta = {
        'config': json.dumps(config_json(variant, cfg), sort_keys=True),
        'seed': str(seed),
        'greedy_prompt_len': str(PROMPT_LEN),
        'generator': 'tools/gen_model_fixtures.py (float64 compute, stored float32)',
    }
    path = os.path.join(out_dir, f'model-{variant}.safetensors')
    save_file(t, path, metadata=meta)
    print(f'{path}: {os.path.getsize(path)} bytes, seed {seed}, loss {loss.item():.6f}, aux {aux.item():.6f}, '
          f'greedy {greedy.tolist()}, margins greedy {g_margin:.2e} route {r_margin:.2e}')


def write_v1_original(out_dir, base_seed):
    """v1-original.pth: torch.save of a v1 state dict (v1 key names, interleaved-RoPE weights, fp16,
    output.weight tied to tok_embeddings.weight); the expected logits come from the interleaved-RoPE
    model run on those fp16 weights upcast to float64."""
    for attempt in range(50):
        seed = base_seed + 1000 * attempt
        cfg = default_config(**COMMON, **VARIANTS['v1'], rope_interleaved=True)
        model = MiniMind(cfg).double()
        init_weights(model, seed)
        with torch.no_grad():   # the reference uses exactly the fp16 values
            for p in model.parameters():
                p.copy_(p.half().double())
        ids, _ = make_inputs(seed + 1)
        with torch.no_grad():
            logits, _, _ = model(ids, training=False)
        greedy, g_margin = model.greedy(ids[:1, :PROMPT_LEN], N_NEW, use_cache=True)
        if g_margin >= MIN_GREEDY_MARGIN and len(set(greedy.tolist())) >= MIN_DISTINCT:
            break
    # Self-check: permuting q/k rows to rotate-half layout gives the same logits with rotate-half RoPE.
    cfg_rh = dict(cfg, rope_interleaved=False)
    rh = MiniMind(cfg_rh).double()
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    for k in list(sd):
        if k.endswith('q_proj.weight'):
            sd[k] = interleaved_to_rotate_half_rows(sd[k], cfg['num_attention_heads'], cfg['head_dim'])
        if k.endswith('k_proj.weight'):
            sd[k] = interleaved_to_rotate_half_rows(sd[k], cfg['num_key_value_heads'], cfg['head_dim'])
    rh.load_state_dict(sd)
    with torch.no_grad():
        logits_rh, _, _ = rh(ids, training=False)
    diff = (logits_rh - logits).abs().max().item()
    assert diff < 1e-12, f'row permutation self-check failed: {diff}'

    v1sd = {k: v.half() for k, v in model.v1_state_dict().items()}
    v1sd['output.weight'] = v1sd['tok_embeddings.weight']  # tied: one storage in the file, as in MiniMind
    pth = os.path.join(out_dir, 'v1-original.pth')
    torch.save(v1sd, pth)
    exp = {'input_ids': ids.to(torch.int32), 'logits': logits.float(), 'greedy_ids': greedy.to(torch.int32)}
    # fp16 copies of every tensor under its v1 name, so the .pth reader can be checked bit for bit
    for k, v in v1sd.items():
        exp[f'pth.{k}'] = v.clone().contiguous()
    meta = {
        'config': json.dumps(config_json('v1', cfg), sort_keys=True),
        'seed': str(seed),
        'greedy_prompt_len': str(PROMPT_LEN),
        'note': 'logits from the interleaved-RoPE v1 model on the fp16 weights of v1-original.pth (upcast, float64 compute)',
    }
    path = os.path.join(out_dir, 'v1-original-expected.safetensors')
    save_file(exp, path, metadata=meta)
    print(f'{pth}: {os.path.getsize(pth)} bytes; {path}: {os.path.getsize(path)} bytes; seed {seed}; greedy {greedy.tolist()}; '
          f'permuted-vs-interleaved logits diff {diff:.1e}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures'))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    for i, variant in enumerate(VARIANTS):
        write_variant(variant, args.out, 1234 + i)
    write_v1_original(args.out, 4321)


if __name__ == '__main__':
    main()
