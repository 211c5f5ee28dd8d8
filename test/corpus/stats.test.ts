// `data stats`: counts, histograms, tokens as training sees them, rows over max_seq_len, the
// script mix, the duplicate rate and the formats and fields found, on a file written here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusStats } from '../../src/corpus/stats.js';
import { openTokenizer } from '../../src/corpus/tokenizer.js';
import { trainTokenizer } from '../../src/tokenizer/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mm-stats-'));

test('stats: rows, characters, tokens, over max_seq_len, scripts, duplicates, formats and fields', async () => {
  const f = join(dir, 'mixed.jsonl');
  const rows = [
    { text: 'hello world, this is English text.' },
    { text: '这是一段中文文本，用来测试。' },
    { text: 'HELLO   world, this is English text.' }, // an exact duplicate once normalised
    { conversations: [{ role: 'user', content: '你好' }, { role: 'assistant', content: '你好！' }] },
    { text: 'x'.repeat(300), source: 'web' },
  ];
  writeFileSync(f, rows.map((r) => JSON.stringify(r)).join('\n') + '\n{bad\n');
  const tokDir = join(dir, 'tok');
  trainTokenizer({ texts: rows.filter((r) => 'text' in r).map((r) => (r as { text: string }).text), vocabSize: 300, preset: 'minimind3' }).save(tokDir);
  const t = openTokenizer(tokDir);
  const s = await corpusStats({ inputs: [f], tokenizer: t, maxSeqLen: 64 });
  assert.equal(s.rows, 5);
  assert.equal(s.rejects.total, 1);
  assert.equal(s.chars.max, 300);
  assert.equal(s.chars.counts.reduce((a, b) => a + b, 0), 5);
  assert.equal(s.chars.counts[0], 2); // < 16 characters: the Chinese text (14) and the chat's contents (6)
  assert.deepEqual({ latin: s.scripts.latin, han: s.scripts.han }, { latin: 3, han: 2 });
  assert.equal(s.duplicates.rows, 1);
  assert.deepEqual(s.formats, { text: 4, conversations: 1 });
  assert.deepEqual(s.fields, { text: 4, conversations: 1, source: 1 });
  const expectTokens = t.tok.encode(rows[0].text as string).length + 2;
  assert.equal(s.tokens!.min <= expectTokens, true);
  const chat = t.tok.encode(t.tok.applyChatTemplate(rows[3].conversations as never)).length;
  assert.ok(chat > 4);
  assert.equal(s.tokens!.overMaxSeqLen, [0, 1, 2, 3, 4].filter((i) => {
    const r = rows[i] as Record<string, unknown>;
    const n = 'text' in r ? t.tok.encode(r.text as string).length + 2 : chat;
    return n > 64;
  }).length);
});
