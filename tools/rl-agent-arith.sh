#!/usr/bin/env bash
# Agent RL on a small arithmetic tool task, from the quickstart's chat model (runs/quickstart/sft/model):
#   1. data: tool-use demonstrations, RL prompts and held-out prompts, every question unique
#      (tools/agent-arith.mjs; Chinese, so that a number is the same tokens wherever it appears)
#   2. the quickstart model with its position table extended from 512 to 1024: the tools block of the
#      minimind-3 template alone is ~430 tokens with the quickstart's 1,024-token vocabulary
#   3. tool SFT, in two runs: 24,000 short demonstrations without the tools block (~143 tokens each:
#      the model practises copying the question's numbers into the call and the tool's result into
#      the answer; copying is what a 1M-parameter model lacks, and it takes this much practice),
#      then 2,000 in the full format (system message with the tools)
#   4. minimind agent on the RL prompts (8 prompts x 8 rollouts a step, T 0.6), the held-out prompts
#      evaluated every 20 steps
#      (greedy tool loop; correct = the ground truth in the final answer)
# docs/CHANGELOG.md (2026-11-29, issue 14) has what each step gave on the 2-core machine; after each
# evaluation, `node tools/agent-arith-check.mjs $R/eval-*.jsonl` says where the wrong ones fail.
#   bash tools/rl-agent-arith.sh [agent-steps] [learning-rate] [run-folder]
set -euo pipefail
AGENT_STEPS=${1:-100}
LR=${2:-5e-5}
R=${3:-runs/agent-arith}
BASE=${BASE:-runs/quickstart/sft/model}
M="node dist/src/cli/main.js"
# 27,000 demonstrations are drawn (24,000 short, then 3,000 full); the tool SFT uses the first 2,000
# full ones (the last 1,000 are spare). The held-out and RL prompts are drawn after them.
node tools/agent-arith.mjs --out $R/data --short 24000 --sft 3000 --train 400 --eval 100
head -24000 $R/data/tool-sft.jsonl > $R/data/sft-short.jsonl
sed -n 24001,26000p $R/data/tool-sft.jsonl > $R/data/sft-full.jsonl
rm -rf $R/base && cp -r "$BASE" $R/base
node -e "const f='$R/base/config.json';const fs=require('fs');const c=JSON.parse(fs.readFileSync(f));c.max_position_embeddings=1024;fs.writeFileSync(f,JSON.stringify(c,null,2))"
$M eval toolcall --model $R/base --data $R/data/agent-eval.jsonl --max-turns 3 --max-new-tokens 64 --out $R/eval-base.jsonl
$M sft --data $R/data/sft-short.jsonl --init-from $R/base --out $R/sft-short --max-seq-len 200 --batch-size 32 --learning-rate 1e-3 \
  --epochs 1 --log-interval 25 --save-interval 100000 --overwrite
$M sft --data $R/data/sft-full.jsonl --init-from $R/sft-short/model --out $R/sft --max-seq-len 640 --batch-size 16 --learning-rate 5e-4 \
  --epochs 1 --log-interval 10 --save-interval 100000 --overwrite
$M eval toolcall --model $R/sft/model --data $R/data/agent-eval.jsonl --max-turns 3 --max-new-tokens 64 --out $R/eval-sft.jsonl
$M agent --data $R/data/agent-train.jsonl --eval-data $R/data/agent-eval.jsonl --init-from $R/sft/model --out $R/agent \
  --num-generations 8 --batch-size 8 --max-gen-len 64 --thinking-ratio 0 --temperature 0.6 --learning-rate "$LR" \
  --max-steps "$AGENT_STEPS" --epochs 10 --eval-interval 20 --log-interval 5 --save-interval 100000
$M eval toolcall --model $R/agent/model --data $R/data/agent-eval.jsonl --max-turns 3 --max-new-tokens 64 --out $R/eval-agent.jsonl
