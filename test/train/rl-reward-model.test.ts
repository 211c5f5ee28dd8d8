// A reward model folder (`--reward-model DIR`) is transformers' sequence-classifier layout: a
// random LlamaForSequenceClassification (untied) and Qwen3ForSequenceClassification (tied, QK-norm)
// written by transformers' save_pretrained load here, and our score of each sequence equals
// transformers' logits[0, 0] (including its pooling at the last non-pad token). The reward
// function renders the conversation in the folder's chat template and clips to [-3, 3].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { RewardModel, rewardModelFn } from '../../src/train/rl/reward-model.js';
import { PY, smallModelFolder, tmp, tokenizerDir } from '../interop/helpers.js';

const PY_SKIP = existsSync(PY) ? false : `${PY} not found (bash tools/setup-venv.sh creates it)`;

for (const kind of ['llama', 'qwen3'] as const) {
  test(`reward model: a ${kind} *ForSequenceClassification folder from transformers scores as transformers does`, { skip: PY_SKIP }, async () => {
    const tokDir = tokenizerDir();
    const tok = Tokenizer.load(tokDir);
    const text = tok.applyChatTemplate([{ role: 'user', content: 'The capital of France is?' }, { role: 'assistant', content: 'Paris.' }], {});
    const ids = tok.encode(text);
    const seqs = [ids, ids.slice(0, 5), [7], [...ids.slice(0, 9), 0, 0, 0], [0, 0, ...ids.slice(3, 12)], tok.encode('123 + 456 = 579.')];
    const dir = join(tmp('mm-rm-'), 'rm');
    const r = spawnSync(PY, ['tools/check_reward_model.py', kind, dir, tokDir, String(tok.vocabSize), JSON.stringify(seqs)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const ref = JSON.parse(r.stdout.trim().split('\n').pop()!) as { scores: number[]; architecture: string };
    assert.equal(ref.architecture, kind === 'llama' ? 'LlamaForSequenceClassification' : 'Qwen3ForSequenceClassification');
    const rm = RewardModel.load(dir);
    const ours = seqs.map((s) => rm.score(s));
    console.log(`${kind}: max |ours - transformers| = ${Math.max(...ours.map((s, i) => Math.abs(s - ref.scores[i]))).toExponential(2)}`);
    // the scores differ between sequences, so equal scores are not a constant head
    assert.ok(Math.max(...ref.scores) - Math.min(...ref.scores) > 0.1, `reference scores too alike: ${ref.scores}`);
    // fp32 on both sides, summed in different orders: ~1e-6 apart
    ours.forEach((s, i) => assert.ok(Math.abs(s - ref.scores[i]) < 1e-5, `sequence ${i}: ours ${s}, transformers ${ref.scores[i]}`));
    // the reward function: the same text, clipped to [-3, 3]
    const fn = rewardModelFn(dir);
    const [reward] = await fn.score([{ prompt: { messages: [{ role: 'user', content: 'The capital of France is?' }], source: 't' }, completion: 'Paris.', completionIds: [], finishReason: 'stop' }]);
    assert.equal(reward, Math.max(-3, Math.min(3, ours[0])));
    rm.dispose();
    if (kind === 'qwen3') {
      // from the command line: `minimind grpo --reward-model DIR` logs it as reward_reward_model
      const policy = smallModelFolder('tiny-3', { hidden_size: 32, num_hidden_layers: 1 }).dir;
      const data = join(tmp('mm-rm-data-'), 'p.jsonl');
      writeFileSync(data, ['Hello', 'What is 2 plus 3?'].map((q) => JSON.stringify({ conversations: [{ role: 'user', content: q }] })).join('\n') + '\n');
      const out = join(tmp('mm-rm-run-'), 'run');
      const cli = (args: string[]) => spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8' });
      const g = cli(['grpo', '--data', data, '--init-from', policy, '--out', out, '--reward-model', dir, '--num-generations', '2', '--batch-size', '2', '--max-gen-len', '6', '--max-steps', '1', '--quiet']);
      assert.equal(g.status, 0, g.stderr);
      const rec = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.step === 1);
      assert.ok(Number.isFinite(rec.reward_reward_model) && Math.abs(rec.reward_reward_model) <= 3, JSON.stringify(rec));
      assert.equal(rec.reward, rec.reward_reward_model); // the only reward given
      const bad = cli(['grpo', '--data', data, '--init-from', policy, '--out', out + '2', '--reward-model', policy]);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /^minimind: --reward-model: .*Qwen3ForCausalLM is not a reward model/);
    }
  });
}

test('reward model: clear errors for a folder that is not one', () => {
  const dir = tmp('mm-rm-bad-');
  assert.throws(() => RewardModel.load(dir), /no config\.json/);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['Qwen3ForCausalLM'] }));
  assert.throws(() => RewardModel.load(dir), /Qwen3ForCausalLM is not a reward model/);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['Qwen3ForSequenceClassification'], num_labels: 2 }));
  assert.throws(() => RewardModel.load(dir), /num_labels is 2/);
});
