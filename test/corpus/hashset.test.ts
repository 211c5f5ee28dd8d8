// HashMap64 / HashSet64 (interleaved slots, grown at 3/4 full) against JS Map and Set on random
// 64-bit keys with repeats, through many growths, including the key (0, 0) and the value 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashMap64, HashSet64 } from '../../src/corpus/hashset.js';
import { mulberry32 } from '../../src/data/rng.js';

test('HashMap64 keeps the first value of each key and HashSet64 each key once, as Map and Set do', () => {
  const rand = mulberry32(11);
  const keys: [number, number][] = [[0, 0], [0, 1], [1, 0]];
  for (let i = 0; i < 20000; i++) keys.push([Math.floor(rand() * 2 ** 32), Math.floor(rand() * 2 ** 32)]);
  const map = new HashMap64(4);
  const set = new HashSet64();
  const refMap = new Map<string, number>();
  const refSet = new Set<string>();
  for (let i = 0; i < 60000; i++) {
    const [hi, lo] = keys[Math.floor(rand() * keys.length)];
    const k = `${hi}:${lo}`;
    if (!refMap.has(k)) refMap.set(k, i % 7); // values repeat, 0 among them
    assert.equal(map.getOrSet(hi, lo, i % 7), refMap.get(k));
    assert.equal(set.add(hi, lo), !refSet.has(k));
    refSet.add(k);
  }
  assert.equal(map.size, refMap.size);
  assert.equal(set.size, refMap.size);
  for (const [k, v] of refMap) {
    const [hi, lo] = k.split(':').map(Number);
    assert.equal(map.getOrSet(hi, lo, 99), v);
    assert.equal(set.add(hi, lo), false);
  }
});
