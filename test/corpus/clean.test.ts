// `data clean` against tools/corpus/reference_filters.py, a Python implementation of the same
// rules written from their documentation (datatrove's Gopher and C4 filters with its defaults,
// NLTK's Treebank word rules, our text repairs): on C4 and Wikipedia text from ../shared/data plus
// documents made to trip every rule, the same words, the same decision with the same reason, and
// the same kept text for every row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clean, cleanRow, CLEAN_DEFAULTS } from '../../src/corpus/clean.js';
import { normalizeText } from '../../src/corpus/normalize.js';
import { splitWords } from '../../src/corpus/filters/words.js';

const PY = '.venv/bin/python';
const SHARED = '../shared/data';
const dir = mkdtempSync(join(tmpdir(), 'mm-clean-'));

const sentence = (i: number) => `The cat number ${i} sat on the mat with the dog, and that was fine to see.`;
const prose = (n: number, from = 0) => Array.from({ length: n }, (_, i) => sentence(from + i)).join(' ');
/** Documents that trip (or just pass) each rule. */
const CRAFTED = [
  prose(12),
  Array.from({ length: 12 }, (_, i) => `- item ${i} of the list with the words to be read`).join('\n'),
  `${prose(8)}\n${'# '.repeat(40)}`,
  `${prose(8)}\n${Array.from({ length: 10 }, (_, i) => `And then ${i}...`).join('\n')}`,
  `${prose(8)} Lorem ipsum dolor sit amet, consectetur adipiscing elit.`,
  `${prose(8)}\nvar x = {a: 1}; is the code here.`,
  `${prose(6)}\nPlease enable JavaScript to view this page.\nThis site uses cookies to improve your experience.`,
  `${prose(3)}\nshort line\nno end punctuation here at all`,
  Array.from({ length: 8 }, () => sentence(1)).join('\n'),
  `${prose(4)}\n\n${prose(4)}\n\n${prose(4)}\n\n${prose(4)}`,
  `<p>${prose(8)}</p><br/>&amp; &lt;tag&gt; &#8217; &nbsp;\r\nThe end of it all.\u200b`,
  `Mr. Smith went to Washington. He said "it's fine" and didn't stop; we'll see (maybe) -- or not? Yes! Dr. J. Doe's cat can't run... etc. ${prose(6)}`,
  `${prose(6)} According to the record.[1] It was edited.[citation needed] The end is here.[edit]`,
  'Wow. ' + 'word '.repeat(60).trim() + '.',
  `${'supercalifragilisticexpialidocious '.repeat(60).trim()}.`,
  `${prose(5)}\n${'x'.repeat(1200)} is a long word.`,
];

function corpus(): string[] {
  const texts = [...CRAFTED];
  if (existsSync(SHARED)) {
    for (const l of readFileSync(join(SHARED, 'llamafactory-demo/c4_demo.jsonl'), 'utf8').trim().split('\n')) texts.push(JSON.parse(l).text);
    texts.push(...readFileSync(join(SHARED, 'llamafactory-demo/wiki_demo.txt'), 'utf8').split('\n').filter((l) => l.trim() !== ''));
    texts.push(...readFileSync(join(SHARED, 'tinystories/tinystories_val_prefix.txt'), 'utf8').split(/\n\n(?=Once upon a time|One day)/).slice(0, 150));
  }
  return texts;
}

const ready = existsSync(PY) && existsSync(SHARED);
test('clean decisions, reasons, kept text and words equal the Python reference of the same rules', { skip: !ready && 'needs .venv (tools/setup-venv.sh) and ../shared/data' }, () => {
  const texts = corpus();
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  const refOut = join(dir, 'ref.jsonl');
  const r = spawnSync(PY, ['tools/corpus/reference_filters.py', input, refOut], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const ref = readFileSync(refOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(ref.length, texts.length);
  const rules = { ...CLEAN_DEFAULTS, filters: ['gopher-repetition', 'gopher-quality', 'c4'] as const };
  const reasons = new Map<string, number>();
  let wordMismatch = 0;
  for (let i = 0; i < texts.length; i++) {
    const ours = cleanRow({ text: texts[i] }, { ...rules, filters: [...rules.filters] });
    const want = ref[i];
    const where = `row ${i}: ${texts[i].slice(0, 80)}`;
    if (JSON.stringify(splitWords(normalizeText(texts[i]))) !== JSON.stringify(want.words)) wordMismatch++;
    if ('keep' in ours) {
      assert.equal(want.keep, true, `${where}: we keep it, the reference drops it (${want.reason})`);
      assert.equal(JSON.parse(ours.keep).text, want.text, where);
    } else {
      assert.equal(ours.reason, want.reason, where);
      reasons.set(ours.reason, (reasons.get(ours.reason) ?? 0) + 1);
    }
  }
  assert.equal(wordMismatch, 0, 'word splits differ');
  // the sample exercises many rules, not only one
  assert.ok(reasons.size >= 10, `reasons seen: ${[...reasons.entries()].join(', ')}`);
});

test('text repairs: CRLF, control and zero-width characters, HTML tags and entities, NFC', () => {
  assert.equal(normalizeText('<p>a&amp;b</p>\r\nc\u200b\u0007 &#233;e\u0301 &lt;x&gt;'), 'a&b\n\nc éé <x>');
  assert.equal(normalizeText('x  \n\n\n\ny', { html: false }), 'x\n\ny');
});

test('clean writes kept rows, counts each reason with its place, and keeps the rejected rows on request', async () => {
  const input = join(dir, 'small.jsonl');
  writeFileSync(input, [JSON.stringify({ text: prose(12) }), JSON.stringify({ text: 'too short to pass.' }), '{oops', JSON.stringify({ text: '' }), JSON.stringify({ conversations: [{ role: 'user', content: 'hi<br>' }, { role: 'assistant', content: 'hello &amp; bye' }] })].join('\n') + '\n');
  for (const threads of [1, 2]) {
    const output = join(dir, `out-${threads}.jsonl`);
    const rejected = join(dir, `rej-${threads}.jsonl`);
    const s = await clean({ inputs: [input], output, rejected, filters: ['gopher-quality'], threads });
    assert.equal(s.rows, 4);
    assert.equal(s.kept, 1);
    assert.deepEqual(Object.fromEntries([...s.dropped.reasons].map(([k, r]) => [k, r.where])), { gopher_short_doc: [`${input}:2`, `${input}:5`], too_short: [`${input}:4`] });
    assert.equal(s.unreadable.total, 1);
    assert.equal(readFileSync(rejected, 'utf8').trim().split('\n').length, 3);
    // the summary shows a sample of what each filter removed, below its count
    const summary = s.dropped.lines();
    assert.match(summary[0], /^ +2 {2}gopher_short_doc \(first at /);
    assert.equal(summary[1], '           e.g. "too short to pass."');
  }
  const out = join(dir, 'chat-out.jsonl');
  await clean({ inputs: [input], output: out, threads: 1 });
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows[rows.length - 1].conversations, [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello & bye' }]);
});
