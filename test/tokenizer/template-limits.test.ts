// A chat template comes from a file anyone may hand us: rendering stays within fixed limits
// (template-limits.ts). range() is capped as transformers' ImmutableSandboxedEnvironment caps it
// (checked against Python's jinja2 below), and loops or growing strings that would exhaust memory
// end in one UserError naming the tokenizer folder, quickly and without V8's fatal out-of-memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { renderChatTemplate } from '../../src/tokenizer/chat.js';
import { MAX_CHARS, MAX_RANGE, MAX_STEPS } from '../../src/tokenizer/template-limits.js';
import { UserError } from '../../src/core/errors.js';

const PY = '.venv/bin/python';
const render = (template: string) => renderChatTemplate(template, [{ role: 'user', content: 'hi' }], {}, {}, 'some/tokenizer');
const refused = (template: string, why: RegExp) =>
  assert.throws(() => render(template), (e: unknown) => e instanceof UserError && /^chat template of some\/tokenizer: /.test(e.message) && why.test(e.message));

const RANGES = ['{{ range(3)|join(",") }}', '{{ range(1, 10, 3)|join(",") }}', '{{ range(5, 0, -2)|join(",") }}', '{{ range(4, 2)|join(",") }}', `{{ range(${MAX_RANGE})|length }}`];

test('range() renders as jinja2\'s sandbox renders it, up to its MAX_RANGE', { skip: !existsSync(PY) && 'needs .venv (tools/setup-venv.sh)' }, () => {
  const py = spawnSync(PY, ['-c', `
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment, MAX_RANGE
e = ImmutableSandboxedEnvironment()
out = [e.from_string(t).render() for t in json.loads(sys.argv[1])]
try:
    e.from_string('{{ range(MAX_RANGE + 1)|length }}').render(MAX_RANGE=MAX_RANGE)
    out.append('rendered')
except OverflowError:
    out.append('refused')
print(json.dumps([MAX_RANGE, out]))
`, JSON.stringify(RANGES)], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  const [pyMax, pyOut] = JSON.parse(py.stdout) as [number, string[]];
  assert.equal(MAX_RANGE, pyMax);
  assert.deepEqual(RANGES.map(render), pyOut.slice(0, -1));
  assert.equal(pyOut.at(-1), 'refused');
  refused(`{{ range(${MAX_RANGE + 1})|length }}`, new RegExp(`range\\(${MAX_RANGE + 1}\\) has ${MAX_RANGE + 1} elements; templates may loop at most ${MAX_RANGE} times`));
});

test('a billion-step range, nested loops and doubling strings end in one error, not out of memory', () => {
  refused('{% for i in range(1000000000) %}x{% endfor %}', /range\(1000000000\) has 1000000000 elements/);
  // 11 loops of 100,000 empty steps: each within MAX_RANGE, together past MAX_STEPS
  refused('{% for i in range(11) %}{% for j in range(100000) %}{% endfor %}{% endfor %}', new RegExp(`ran past ${MAX_STEPS} steps`));
  // 2^27 characters after 27 doublings, past MAX_CHARS (64 Mi) in a few steps
  refused('{% set ns = namespace(s="x") %}{% for i in range(27) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}', new RegExp(`grew past ${MAX_CHARS} characters`));
  // a message of 1 MB written 100,000 times (once 100 GB of output)
  assert.throws(() => renderChatTemplate('{% for i in range(100000) %}{{ messages[0].content }}{% endfor %}', [{ role: 'user', content: 'y'.repeat(1 << 20) }], {}, {}, 'some/tokenizer'), /grew past/);
  // the library's other globals still work
  assert.equal(render('{{ strftime_now("%Y")|length }} {{ None is none }}'), '4 true');
});
