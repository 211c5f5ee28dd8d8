#!/usr/bin/env bash
# The GPU poetry demo's training stages on the GPU machine (issue 25), one command. The data stages
# (convert, clean, dedup, split, tokenizer, tokenize) run first on any CPU:
#   npm install --no-save chinese-poetry && npx minimind pipeline pipelines/poetry-demo-gpu.yaml
# which stops at pretrain where there is no GPU. The run folder then travels without the corpus (the
# pipeline keeps a finished stage's recorded command when its inputs are gone), and here the same
# pipeline goes on with pretrain, sft and eval ppl on --device cuda, then sampled generations (seed 1) from both models.
# PRETRAIN_MAX_STEPS=N shortens pretraining (see below); DEMO_LIMIT caps the pipeline's seconds.
#   carry: this worktree copy (dist, build-cuda, .device-node, runtime node_modules, runs/poetry-demo-gpu:
#   .pipeline/, tokenizer/, tokens/, split.val.jsonl) and ../shared/data's two SFT files
set -uo pipefail
source scripts/device-cuda.sh
out=${OUT:-/tmp/out}
run=runs/poetry-demo-gpu
mm() { node dist/src/cli/main.js "$@"; }
spec=pipelines/poetry-demo-gpu.yaml
if [ -n "${PRETRAIN_MAX_STEPS:-}" ]; then
  # a shortened run, same stages and folder: pretrain capped at N optimizer steps (the recipe's 2 epochs
  # are 2 x 1,230 steps of 32 x 8 rows); the pretrain command then carries --max-steps N
  spec=$run.max-steps-$PRETRAIN_MAX_STEPS.yaml
  sed "s/preset: minimind-3, epochs: 2,/preset: minimind-3, max-steps: $PRETRAIN_MAX_STEPS, epochs: 2,/" pipelines/poetry-demo-gpu.yaml > "$spec"
  grep -q "max-steps: $PRETRAIN_MAX_STEPS" "$spec" || { echo "the pretrain stage's args changed: fix the sed above"; exit 1; }
fi
# the pipeline's log without progress bars; the limit leaves time for the samples and the copies
timeout "${DEMO_LIMIT:-360}" node dist/src/cli/main.js pipeline "$spec" 2>&1 | tr '\r' '\n' | grep --line-buffered -vE ' [0-9]+%\|?.*\[[0-9]' | tee "$out/pipeline.log"
for s in pretrain sft; do cp "$run/$s/metrics.jsonl" "$out/$s-metrics.jsonl"; done
cp "$run/report.json" "$out/"
{
  # a poem row is "title\nauthor\nlines" (the corpus is in traditional characters): give title and author
  for p in $'春曉\n孟浩然\n' $'靜夜思\n李白\n' $'登樓\n杜甫\n' $'秋夜\n'; do
    echo "== pretrain, raw: ${p//$'\n'/ / }"; mm generate --model "$run/pretrain/model" --raw --prompt "$p" --temperature 0.85 --top-p 0.85 --seed 1 --max-new-tokens 64 --device cuda; echo
  done
  for p in 请写一首关于春天的诗。 你是谁？ 中国的首都是哪里？; do
    echo "== sft: $p"; mm generate --model "$run/sft/model" --prompt "$p" --temperature 0.85 --top-p 0.85 --seed 1 --max-new-tokens 160 --device cuda; echo
  done
} 2>&1 | tee "$out/samples.txt"
