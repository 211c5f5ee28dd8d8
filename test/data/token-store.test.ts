// TokenStore reads the same samples whichever way it holds its files: memory-mapped (the native
// addon), read into memory (MINIMIND_MMAP=0), or sample by sample from the file (past its
// in-memory limit); and a mapped store really is a mapping of ids.bin and mask.bin, not a copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenStore, TokenStoreWriter } from '../../src/data/token-cache.js';
import { loadAddon } from '../../src/backends/cpu/index.js';
import type { EncodedSample } from '../../src/data/encode.js';

const W = mkdtempSync(join(tmpdir(), 'mm-store-'));

function build(dir: string, dtype: 'uint16' | 'int32', hasMask: boolean): EncodedSample[] {
  const samples: EncodedSample[] = [];
  let x = 12345;
  const next = (m: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % m);
  for (let i = 0; i < 3000; i++) {
    const n = 1 + next(300);
    const ids = Int32Array.from({ length: n }, () => next(dtype === 'uint16' ? 65536 : 200000));
    samples.push({ ids, mask: hasMask ? Uint8Array.from({ length: n }, () => next(2)) : null });
  }
  const w = new TokenStoreWriter(dir, dtype, hasMask);
  for (const s of samples) w.add(s);
  w.finish({ maxLength: 300, source: 'test', badLines: 0 });
  return samples;
}

function readAll(store: TokenStore): EncodedSample[] {
  return Array.from({ length: store.length }, (_, i) => store.get(i));
}

test('mapped, in memory and from the file: the same samples (uint16 with a mask, int32 without)', () => {
  for (const [dtype, hasMask] of [['uint16', true], ['int32', false]] as const) {
    const dir = join(W, `${dtype}-${hasMask}`);
    const want = build(dir, dtype, hasMask);
    const mapped = new TokenStore(dir);
    process.env.MINIMIND_MMAP = '0';
    const inMemory = new TokenStore(dir);
    const fromFile = new TokenStore(dir, 0);
    delete process.env.MINIMIND_MMAP;
    for (const store of [mapped, inMemory, fromFile]) {
      const got = readAll(store);
      assert.equal(got.length, want.length);
      for (let i = 0; i < want.length; i++) {
        assert.deepEqual(got[i].ids, want[i].ids, `${dtype} sample ${i}`);
        assert.deepEqual(got[i].mask, want[i].mask, `${dtype} sample ${i} mask`);
      }
      store.close();
    }
  }
});

test('with the native addon on Linux, a store maps ids.bin and mask.bin (they appear in /proc/self/maps); MINIMIND_MMAP=0 does not', { skip: loadAddon() ? false : 'native addon not built on this CPU' }, () => {
  const dir = join(W, 'maps');
  build(dir, 'uint16', true);
  const maps = () => readFileSync('/proc/self/maps', 'utf8');
  process.env.MINIMIND_MMAP = '0';
  const copied = new TokenStore(dir);
  delete process.env.MINIMIND_MMAP;
  assert.doesNotMatch(maps(), /maps\/ids\.bin/);
  const mapped = new TokenStore(dir);
  assert.match(maps(), /maps\/ids\.bin/);
  assert.match(maps(), /maps\/mask\.bin/);
  assert.deepEqual(mapped.get(7), copied.get(7));
});

test('cleanup', () => rmSync(W, { recursive: true, force: true }));
