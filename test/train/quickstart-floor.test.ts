// The quickstart's accuracy has a floor: the run `npx minimind quickstart` leaves in
// runs/quickstart (CI runs it before `npm test`) must answer at least FLOOR of the held-out sums
// (facts read in pretraining, never asked in SFT, nor their commuted twins; whole answers graded)
// and of the questions seen in SFT. The floors sit below the lowest figure of every seed tried
// (docs/performance.md, "Quickstart"), so a regression in training, data or decoding fails here.
// Held-out capitals are reported but have no floor: they stay at 0 on every seed tried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { QUICKSTART_DATA_VERSION } from '../../src/train/quickstart.js';

const RESULTS = 'runs/quickstart/results.json';
// seeds tried (default settings; docs/performance.md): held-out sums 77.5 % (seed 42), 70.2 % (seed 1),
// 47.1 % (seed 2); seen sums 91.4 %, 100 %, 99.6 %; seen capitals 87.5 %, 79.2 %, 100 %
const FLOOR = { heldOutSums: 0.4, seenSums: 0.8, seenCapitals: 0.7 };

const skip = existsSync(RESULTS) ? false : `${RESULTS} not found (run \`npx minimind quickstart\` first; CI does)`;

test('quickstart (runs/quickstart, default settings): held-out sums and seen questions at or above their floors', { skip }, (t) => {
  const r = JSON.parse(readFileSync(RESULTS, 'utf8'));
  assert.equal(r.data_version, QUICKSTART_DATA_VERSION, `${RESULTS} comes from an older quickstart; run \`npx minimind quickstart --overwrite\``);
  t.diagnostic(`seed ${r.seed}: held-out sums ${r.heldOutByKind.sum.accuracy}, capitals ${r.heldOutByKind.capital.accuracy}; seen sums ${r.seenByKind.sum.accuracy}, capitals ${r.seenByKind.capital.accuracy}`);
  assert.ok(r.heldOutByKind.sum.accuracy >= FLOOR.heldOutSums, `held-out sums ${r.heldOutByKind.sum.accuracy} < ${FLOOR.heldOutSums}`);
  assert.ok(r.seenByKind.sum.accuracy >= FLOOR.seenSums, `seen sums ${r.seenByKind.sum.accuracy} < ${FLOOR.seenSums}`);
  assert.ok(r.seenByKind.capital.accuracy >= FLOOR.seenCapitals, `seen capitals ${r.seenByKind.capital.accuracy} < ${FLOOR.seenCapitals}`);
});
