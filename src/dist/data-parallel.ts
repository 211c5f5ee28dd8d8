// Data parallelism for the trainer: every rank holds the whole model, computes gradients on its
// shard of the global batch, and the gradients are summed across ranks before the optimizer step
// (each rank weights its loss by its share of the global batch, so the sum is the gradient of the
// global batch's loss, as one process would compute it).
//   - CUDA: NCCL all-reduce on the backend's stream, in buckets of up to 25 MiB of gradients
//     (DDP's bucket_cap_mb), each bucket one grouped NCCL call. The all-reduce runs after the
//     backward pass, not overlapped with it: the engine queues everything on one stream.
//   - CPU backends: the gradients travel as one float32 vector through the rendezvous (agent.ts),
//     summed in rank order on rank 0: correct everywhere, fast enough for tests and small jobs.
import type { Tensor } from '../core/tensor.js';
import { gradOf } from '../core/autograd.js';
import type { Backend } from '../backends/backend.js';
import type { CudaBackend } from '../backends/cuda/index.js';
import { UserError } from '../core/errors.js';
import { ProcessGroup } from './group.js';

const BUCKET_BYTES = 25 << 20;

export interface DataParallel {
  readonly rank: number;
  readonly worldSize: number;
  readonly transport: 'nccl' | 'tcp';
  /** Sums every parameter's gradient over the ranks, in place (a missing gradient counts as zeros). */
  reduceGradients(params: readonly Tensor[]): Promise<void>;
  /** Gives every rank rank 0's values of the tensors (as DDP does at start): the others zero theirs, then a sum. */
  broadcastParameters(params: readonly Tensor[]): Promise<void>;
  /** Sums a small host vector over the ranks (losses, counts, flags). */
  allReduce(x: Float64Array): Promise<Float64Array>;
  allGather(value: number): Promise<number[]>;
  barrier(): Promise<void>;
  close(): Promise<void>;
}

function ensureGrads(params: readonly Tensor[]): Tensor[] {
  return params.map((p) => {
    return gradOf(p); // zeros when none, e.g. an expert no row of this shard was routed to
  });
}

/** Buckets of consecutive gradients, each at most BUCKET_BYTES unless one gradient alone is larger. */
export function buckets(grads: readonly Tensor[], bytes = BUCKET_BYTES): Tensor[][] {
  const out: Tensor[][] = [];
  let cur: Tensor[] = [];
  let size = 0;
  for (const g of grads) {
    if (cur.length && size + g.size * 4 > bytes) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(g);
    size += g.size * 4;
  }
  if (cur.length) out.push(cur);
  return out;
}

export async function dataParallel(group: ProcessGroup, backend: Backend): Promise<DataParallel> {
  const common = {
    rank: group.rank,
    worldSize: group.worldSize,
    allReduce: (x: Float64Array) => group.allReduce(x),
    allGather: (v: number) => group.allGather(v),
    barrier: () => group.barrier(),
  };
  if (backend.device === 'cuda' && process.env.MINIMIND_DIST_TRANSPORT !== 'tcp') {
    const nccl = (backend as CudaBackend).nccl;
    let id: Uint8Array | null = null;
    let problem = '';
    if (group.rank === 0) {
      try {
        id = nccl.getUniqueId();
      } catch (e) {
        problem = (e as Error).message;
      }
    }
    // rank 0 sends the id (or, when it has no NCCL, an empty id that makes every rank stop cleanly)
    const got = await group.broadcast(id ?? new Uint8Array(0));
    if (got.length !== 128) {
      await group.close();
      throw new UserError(problem ? `rank 0: ${problem}` : 'rank 0 could not create an NCCL id');
    }
    nccl.init(got, group.worldSize, group.rank);
    const sum = (ts: readonly Tensor[]) => {
      for (const bucket of buckets(ts)) nccl.allReduce(bucket.map((g) => g.buf));
    };
    return {
      ...common,
      transport: 'nccl',
      async reduceGradients(params) {
        sum(ensureGrads(params).reverse()); // the order backward finishes them (for a later overlap)
      },
      async broadcastParameters(params) {
        if (group.rank !== 0) for (const p of params) p.backend.fill(p.buf, 0, p.size);
        sum(params);
      },
      async close() {
        nccl.destroy();
        await group.close();
      },
    };
  }
  // one float32 vector of all the tensors through the rendezvous, written back in place
  const sum = async (ts: readonly Tensor[]) => {
    const flat = new Float32Array(ts.reduce((n, t) => n + t.size, 0));
    let off = 0;
    for (const t of ts) {
      flat.set(t.toArray() as Float32Array, off);
      off += t.size;
    }
    const total = await group.allReduce(flat);
    off = 0;
    for (const t of ts) {
      const up = t.backend.upload(total.subarray(off, off + t.size));
      t.backend.copy(t.buf, up, t.size);
      t.backend.free(up);
      off += t.size;
    }
  };
  return {
    ...common,
    transport: 'tcp',
    reduceGradients: (params) => sum(ensureGrads(params)),
    async broadcastParameters(params) {
      if (group.rank !== 0) for (const p of params) p.backend.fill(p.buf, 0, p.size);
      await sum(params);
    },
    close: () => group.close(),
  };
}
