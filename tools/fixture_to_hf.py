"""Writes the parameters of a model fixture (test/fixtures/model-<variant>.safetensors) as a Hugging
Face model folder (config.json + model.safetensors) of the matching transformers architecture:
dense without QK-norm -> LlamaForCausalLM, dense with QK-norm -> Qwen3ForCausalLM, Qwen3-style MoE ->
Qwen3MoeForCausalLM. (DeepSeek-style MoE with a shared expert has no exact transformers class.)

Used to cross-check tools/minimind_torch.py against transformers' own implementations:
  .venv/bin/python tools/fixture_to_hf.py test/fixtures/model-v1.safetensors /tmp/hf-v1
  .venv/bin/python tools/check_hf_load.py /tmp/hf-v1 test/fixtures/model-v1.safetensors
"""

import json
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import save_file


def hf_config(c):
    base = {
        'hidden_size': c['hidden_size'],
        'num_hidden_layers': c['num_hidden_layers'],
        'num_attention_heads': c['num_attention_heads'],
        'num_key_value_heads': c['num_key_value_heads'],
        'head_dim': c['head_dim'],
        'intermediate_size': c['intermediate_size'],
        'vocab_size': c['vocab_size'],
        'rms_norm_eps': c['rms_norm_eps'],
        'rope_theta': c['rope_theta'],
        'rope_parameters': {'rope_type': 'default', 'rope_theta': c['rope_theta']},
        'max_position_embeddings': c['max_position_embeddings'],
        'tie_word_embeddings': True,
        'hidden_act': 'silu',
        'attention_bias': False,
        'attention_dropout': 0.0,
        'bos_token_id': 1,
        'eos_token_id': 2,
        'torch_dtype': 'float32',
    }
    if c['use_moe']:
        if c['moe_style'] != 'qwen3' or c['n_shared_experts']:
            raise SystemExit(f"{c['variant']}: DeepSeek-style MoE with a shared expert has no transformers architecture")
        return {**base, 'architectures': ['Qwen3MoeForCausalLM'], 'model_type': 'qwen3_moe',
                'num_experts': c['n_routed_experts'], 'num_experts_per_tok': c['num_experts_per_tok'],
                'moe_intermediate_size': c['intermediate_size'], 'norm_topk_prob': c['norm_topk_prob'],
                'decoder_sparse_step': 1, 'mlp_only_layers': [], 'router_aux_loss_coef': c['router_aux_loss_coef'],
                'output_router_logits': False, 'use_sliding_window': False}
    if c['qk_norm']:
        return {**base, 'architectures': ['Qwen3ForCausalLM'], 'model_type': 'qwen3', 'use_sliding_window': False}
    return {**base, 'architectures': ['LlamaForCausalLM'], 'model_type': 'llama', 'mlp_bias': False}


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    with safe_open(src, framework='pt') as f:
        cfg = json.loads(f.metadata()['config'])
        params = {k[len('param.'):]: f.get_tensor(k) for k in f.keys() if k.startswith('param.')}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'config.json'), 'w') as fh:
        json.dump(hf_config(cfg), fh, indent=2)
    save_file(params, os.path.join(out, 'model.safetensors'), metadata={'format': 'pt'})
    print(f'wrote {out} ({hf_config(cfg)["architectures"][0]}, {len(params)} tensors)')


if __name__ == '__main__':
    main()
