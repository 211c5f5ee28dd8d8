// quoteUserText: what an error message may echo of a user's data. Terminal control sequences
// (ESC ... , BEL, a one-character C1 CSI, bidi overrides) come out as visible escapes; ordinary
// text, CJK and emoji pass unchanged; long text is cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quoteUserText } from '../../src/core/errors.js';

test('control characters become visible escapes, other text is unchanged', () => {
  assert.equal(quoteUserText('\x1b]0;pwned\x07\x1b[2J'), '\\x1b]0;pwned\\x07\\x1b[2J');
  assert.equal(quoteUserText('a\nb\r\tc\x00\x7f\x9b'), 'a\\nb\\r\\tc\\x00\\x7f\\x9b');
  assert.equal(quoteUserText('abc\u202edef\u2066'), 'abc\\u202edef\\u2066');
  assert.equal(quoteUserText('法国的首都是巴黎。 🙂 "quoted" \'single\''), '法国的首都是巴黎。 🙂 "quoted" \'single\'');
  assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(quoteUserText(String.fromCharCode(...Array.from({ length: 0xa0 }, (_, i) => i)), Infinity)));
});

test('text longer than maxChars is cut with an ellipsis (before escaping, so an escape is never split)', () => {
  assert.equal(quoteUserText('x'.repeat(10), 4), 'xxxx…');
  assert.equal(quoteUserText('\x1b'.repeat(3), 2), '\\x1b\\x1b…');
  assert.equal(quoteUserText('y'.repeat(120)), 'y'.repeat(120));
});
