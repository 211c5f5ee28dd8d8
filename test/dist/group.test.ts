// The process group's collectives, with three ranks in one process (each rank's agent is its own
// worker thread with its own sockets): sums in rank order, all-gather, broadcast, barrier; and
// the shard arithmetic of data/shard.ts against readBatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessGroup, distEnv } from '../../src/dist/group.js';
import { buckets } from '../../src/dist/data-parallel.js';
import { BatchPlan, readBatch } from '../../src/data/batches.js';
import { readShard } from '../../src/data/shard.js';
import { zeros } from '../../src/core/tensor.js';
import { freePort } from './helpers.js';

test('three ranks: allReduce sums in rank order, allGather, broadcast, barrier', async () => {
  const port = await freePort();
  const groups = await Promise.all([2, 1, 0].map((rank) => ProcessGroup.join({ rank, worldSize: 3, localRank: rank, masterAddr: '127.0.0.1', masterPort: port })));
  groups.sort((a, b) => a.rank - b.rank);
  const sums = await Promise.all(groups.map((g) => g.allReduce(Float32Array.from([g.rank, 0.1, 1e8]))));
  // 1e8 + 1e8 + 1e8 in float32, and 0.1 three times in float32 in rank order: the same bits everywhere
  const want = new Float32Array(3);
  for (let r = 0; r < 3; r++) for (const [i, v] of [r, 0.1, 1e8].entries()) want[i] += Math.fround(v);
  for (const s of sums) assert.deepEqual(Array.from(s), Array.from(want));
  const gathered = await Promise.all(groups.map((g) => g.allGather(10 + g.rank)));
  for (const x of gathered) assert.deepEqual(x, [10, 11, 12]);
  const got = await Promise.all(groups.map((g) => g.broadcast(g.rank === 0 ? Uint8Array.from([7, 8, 9]) : null)));
  for (const b of got) assert.deepEqual(Array.from(b), [7, 8, 9]);
  await Promise.all(groups.map((g) => g.barrier()));
  const f64 = await Promise.all(groups.map((g) => g.allReduce(Float64Array.from([1 / 3]))));
  for (const x of f64) assert.equal(x[0], 1 / 3 + 1 / 3 + 1 / 3);
  await Promise.all(groups.map((g) => g.close()));
});

test('distEnv reads torchrun variables and refuses bad ones', () => {
  assert.equal(distEnv({}), null);
  assert.equal(distEnv({ WORLD_SIZE: '1', RANK: '0' }), null);
  assert.deepEqual(distEnv({ WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '1', MASTER_ADDR: '10.1.2.3', MASTER_PORT: '1234' }), { rank: 3, worldSize: 4, localRank: 1, masterAddr: '10.1.2.3', masterPort: 1234 });
  assert.throws(() => distEnv({ WORLD_SIZE: '2', RANK: '2' }), /RANK=2 must be below WORLD_SIZE=2/);
  assert.throws(() => distEnv({ WORLD_SIZE: '2', RANK: 'x' }), /RANK=x is not a valid/);
  assert.throws(() => distEnv({ WORLD_SIZE: '2', RANK: '0', MASTER_PORT: '70000' }), /MASTER_PORT=70000/);
});

test('shards of W ranks together are the batch one process reads, with the global target count', () => {
  const samples = Array.from({ length: 11 }, (_, i) => ({ ids: Int32Array.from({ length: 3 + (i % 4) }, (_, t) => 10 * i + t), mask: i % 3 === 0 ? Uint8Array.from({ length: 3 + (i % 4) }, (_, t) => t % 2) : null }));
  const source = { size: samples.length, get: (i: number) => samples[i] } as never;
  const plan = new BatchPlan(11, { batchSize: 5, seed: 3 });
  for (const step of [0, 2]) {
    const whole = readBatch(source, plan, 1, step, 0, { padTo: 5 });
    for (const W of [1, 2, 3]) {
      const shards = Array.from({ length: W }, (_, r) => readShard(source, plan, 1, step, 0, { padTo: 5 }, r, W));
      assert.deepEqual(shards.map((s) => s.batch.B).reduce((a, b) => a + b), whole.B);
      assert.deepEqual(Array.from(shards.flatMap((s) => Array.from(s.batch.inputIds))), Array.from(whole.inputIds));
      assert.deepEqual(Array.from(shards.flatMap((s) => Array.from(s.batch.labels))), Array.from(whole.labels));
      for (const s of shards) assert.equal(s.globalTargets, whole.targets);
      assert.equal(shards.reduce((a, s) => a + s.batch.targets, 0), whole.targets);
    }
  }
});

test('gradient buckets hold consecutive gradients of at most the cap', () => {
  const gs = [100, 300, 50, 600, 10].map((n) => zeros([n]));
  const b = buckets(gs, 400 * 4);
  assert.deepEqual(b.map((x) => x.map((g) => g.size)), [[100, 300], [50], [600], [10]]);
});
