"""Reference for test/train/rl-reward-model.test.ts: a random reward model folder written by
transformers (LlamaForSequenceClassification or Qwen3ForSequenceClassification, num_labels 1,
save_pretrained), and transformers' score of each token sequence given.

  python tools/check_reward_model.py llama|qwen3 OUT_DIR TOKENIZER_DIR VOCAB_SIZE '[[ids], ...]'
prints {"scores": [...]} (logits[0, 0] of each sequence, run alone, as the folder's model computes it)."""
import json
import shutil
import sys

import torch
import transformers

kind, out, tok_dir, vocab_size, seqs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
common = dict(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-6, num_labels=1, pad_token_id=0, bos_token_id=1, eos_token_id=2)
torch.manual_seed(0)
if kind == "llama":
    cfg = transformers.LlamaConfig(**common, rope_theta=10000.0, tie_word_embeddings=False)
    model = transformers.LlamaForSequenceClassification(cfg)
else:
    cfg = transformers.Qwen3Config(**common, head_dim=16, rope_theta=1e6, tie_word_embeddings=True)
    model = transformers.Qwen3ForSequenceClassification(cfg)
with torch.no_grad():
    # wider than the default init so that scores differ clearly between sequences
    for name, p in model.named_parameters():
        if name.endswith("norm.weight"):
            p.copy_(1 + 0.1 * torch.randn_like(p))
        else:
            p.copy_(0.15 * torch.randn_like(p))
model.eval()
model.save_pretrained(out, safe_serialization=True)
for f in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copy(f"{tok_dir}/{f}", f"{out}/{f}")
scores = []
with torch.no_grad():
    for ids in seqs:
        scores.append(model(torch.tensor([ids])).logits[0, 0].item())
print(json.dumps({"scores": scores, "architecture": type(model).__name__, "transformers": transformers.__version__}))
