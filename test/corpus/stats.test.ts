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

// Enough rows for several batches of 256 on each of two workers, with unreadable lines, rows
// without text and duplicates spread among them: every number, the order of the fields and
// formats found, and the first places of each reject reason must be those of one thread.
test('stats --threads 2 gives the numbers of one thread, rejects in row order', async () => {
  const f = join(dir, 'many.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < 1500; i++) {
    if (i % 3 === 0) lines.push(JSON.stringify({ text: `row ${i % 400} in English, ${'word '.repeat(i % 50)}`, [`field${i % 7}`]: i }));
    else if (i % 3 === 1) lines.push(JSON.stringify({ text: `第${i}行中文文本。${'字'.repeat(i % 90)}` }));
    else lines.push(JSON.stringify({ conversations: [{ role: 'user', content: `question ${i % 300}` }, { role: 'assistant', content: `回答 ${i}` }] }));
    if (i % 89 === 11) lines.push('{bad');
    if (i % 113 === 17) lines.push(JSON.stringify({ id: i }));
  }
  writeFileSync(f, lines.join('\n') + '\n');
  const tokDir = join(dir, 'tok-many');
  trainTokenizer({ texts: lines.slice(0, 300), vocabSize: 300, preset: 'minimind3' }).save(tokDir);
  const t = openTokenizer(tokDir);
  const run = async (threads: number) => {
    const s = await corpusStats({ inputs: [f], tokenizer: t, maxSeqLen: 32, threads });
    return { json: JSON.stringify({ ...s, seconds: 0, rejects: s.rejects.toJSON() }), lines: s.rejects.lines(), s };
  };
  const one = await run(1);
  const two = await run(2);
  assert.equal(one.s.rows, 1500);
  assert.ok(one.s.duplicates.rows > 0 && one.s.tokens!.overMaxSeqLen > 0);
  assert.equal(one.s.rejects.total, Math.ceil((1500 - 11) / 89) + Math.ceil((1500 - 17) / 113));
  assert.equal(one.s.rejects.reasons.size, 2);
  assert.equal(two.json, one.json);
  assert.deepEqual(two.lines, one.lines);
});
