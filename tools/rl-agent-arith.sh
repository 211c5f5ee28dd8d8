#!/usr/bin/env bash
# Agent RL on a small arithmetic tool task, from the quickstart's chat model (runs/quickstart/sft/model):
#   1. data: tool-use demonstrations, RL prompts and held-out prompts (tools/agent-arith.mjs)
#   2. the quickstart model with its position table extended from 512 to 1024: the tools block of the
#      minimind-3 template alone is ~430 tokens with the quickstart's 1,024-token vocabulary
#   3. a short SFT on the demonstrations (default 200 steps): the model learns the format
#   4. minimind agent on the RL prompts, with the held-out prompts evaluated every 15 steps
#      (greedy tool loop; correct = the ground truth in the final answer)
#   bash tools/rl-agent-arith.sh [sft-steps] [agent-steps] [learning-rate]
set -euo pipefail
SFT_STEPS=${1:-200}
AGENT_STEPS=${2:-60}
LR=${3:-1e-4}
R=runs/agent-arith
M="node dist/src/cli/main.js"
node tools/agent-arith.mjs --out $R/data
rm -rf $R/base && cp -r runs/quickstart/sft/model $R/base
node -e "const f='$R/base/config.json';const fs=require('fs');const c=JSON.parse(fs.readFileSync(f));c.max_position_embeddings=1024;fs.writeFileSync(f,JSON.stringify(c,null,2))"
$M sft --data $R/data/tool-sft.jsonl --init-from $R/base --out $R/sft --max-seq-len 700 --batch-size 8 --learning-rate 1e-3 \
  --epochs 10 --max-steps "$SFT_STEPS" --log-interval 5 --save-interval 100000
$M agent --data $R/data/agent-train.jsonl --eval-data $R/data/agent-eval.jsonl --init-from $R/sft/model --out $R/agent \
  --num-generations 4 --batch-size 4 --max-gen-len 96 --thinking-ratio 0 --learning-rate "$LR" --max-steps "$AGENT_STEPS" \
  --eval-interval 15 --log-interval 5 --save-interval 100000
