// A process group over the rendezvous agent (agent.ts): the ranks of one data-parallel job, as
// torchrun describes them in the environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT). Collectives are called by every rank in the same order; each is numbered so the
// hub can tell a rank that is out of step.
import { Worker } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import type { AgentConfig, FromAgent, ToAgent } from './agent.js';

export interface DistEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  masterAddr: string;
  masterPort: number;
}

/** The job's layout from torchrun's variables; null outside a multi-process job (WORLD_SIZE unset or 1). */
export function distEnv(env: NodeJS.ProcessEnv = process.env): DistEnv | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '1') return null;
  const int = (name: string, fallback?: number): number => {
    const v = env[name] ?? (fallback !== undefined ? String(fallback) : undefined);
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isInteger(n) || n < 0) throw new UserError(`${name}=${v ?? ''} is not a valid non-negative integer (set by \`minimind launch\` or torchrun)`);
    return n;
  };
  const worldSize = int('WORLD_SIZE');
  const rank = int('RANK');
  if (worldSize < 1 || rank >= worldSize) throw new UserError(`RANK=${rank} must be below WORLD_SIZE=${worldSize}`);
  const masterPort = int('MASTER_PORT', 29500);
  if (masterPort < 1 || masterPort > 65535) throw new UserError(`MASTER_PORT=${masterPort} is not a TCP port (1..65535)`);
  return { rank, worldSize, localRank: int('LOCAL_RANK', 0), masterAddr: env.MASTER_ADDR || '127.0.0.1', masterPort };
}

export class ProcessGroup {
  private seq = 0;
  private waiting = new Map<number, (data: ArrayBuffer) => void>();
  private early = new Map<number, ArrayBuffer>();
  private closed = false;

  private constructor(readonly env: DistEnv, private worker: Worker) {
    worker.on('message', (m: FromAgent) => {
      if (m.op !== 'result') return;
      const w = this.waiting.get(m.seq);
      if (w) {
        this.waiting.delete(m.seq);
        w(m.data);
      } else this.early.set(m.seq, m.data);
    });
  }

  get rank(): number {
    return this.env.rank;
  }
  get worldSize(): number {
    return this.env.worldSize;
  }

  /** Starts this rank's agent and waits until every rank has joined. */
  static async join(env: DistEnv, opts: { joinTimeoutS?: number; heartbeatTimeoutS?: number } = {}): Promise<ProcessGroup> {
    const cfg: AgentConfig = {
      ...env,
      joinTimeoutS: opts.joinTimeoutS ?? Number(process.env.MINIMIND_DIST_TIMEOUT ?? 300),
      heartbeatTimeoutS: opts.heartbeatTimeoutS ?? Number(process.env.MINIMIND_DIST_HEARTBEAT ?? 60),
    };
    const worker = new Worker(new URL('./agent.js', import.meta.url), { workerData: cfg });
    worker.unref(); // never keeps a finished (or failed) process alive
    let joined = false;
    // Before the rendezvous completes an agent error is join()'s rejection; after it, a dead agent
    // would leave this rank unable to notice failures, so the rank stops.
    worker.on('error', (e) => {
      if (!joined) return;
      writeSync(2, `minimind: rank ${env.rank}: the rendezvous agent failed (${e.message}); stopping this rank\n`);
      process.kill(process.pid, 'SIGUSR2');
    });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromAgent) => {
        if (m.op === 'ready') done(null);
        else if (m.op === 'error') done(new UserError(m.message));
      };
      const onError = (e: Error) => done(new UserError(e.message));
      const done = (e: Error | null) => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (e) {
          void worker.terminate();
          reject(e);
        } else resolve();
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
    });
    joined = true;
    return new ProcessGroup(env, worker);
  }

  private collective(msg: ToAgent & { seq: number }, transfer: ArrayBuffer[]): Promise<ArrayBuffer> {
    if (this.closed) throw new Error('process group is closed');
    const got = this.early.get(msg.seq);
    const p = got ? Promise.resolve(got) : new Promise<ArrayBuffer>((resolve) => this.waiting.set(msg.seq, resolve));
    this.early.delete(msg.seq);
    this.worker.postMessage(msg, transfer);
    return p;
  }

  /** Element-wise sum over the ranks (in rank order, so every rank gets the same bits). */
  async allReduce<A extends Float32Array | Float64Array>(x: A): Promise<A> {
    const copy = x.slice().buffer as ArrayBuffer;
    const seq = ++this.seq;
    const r = await this.collective({ op: 'reduce', seq, dtype: x instanceof Float64Array ? 'f64' : 'f32', data: copy }, [copy]);
    return (x instanceof Float64Array ? new Float64Array(r) : new Float32Array(r)) as A;
  }

  /** Every rank's value, in rank order (an all-gather through the sum). */
  async allGather(value: number): Promise<number[]> {
    const x = new Float64Array(this.worldSize);
    x[this.rank] = value;
    return Array.from(await this.allReduce(x));
  }

  /** Rank 0's bytes on every rank (the others pass null). */
  async broadcast(data: Uint8Array | null): Promise<Uint8Array> {
    const seq = ++this.seq;
    const buf = this.rank === 0 ? (data!.slice().buffer as ArrayBuffer) : null;
    return new Uint8Array(await this.collective({ op: 'bcast', seq, data: buf }, []));
  }

  /** Returns once every rank has reached it. */
  async barrier(): Promise<void> {
    await this.allReduce(new Float64Array(1));
  }

  /**
   * Leaves without a goodbye, at once (this rank failed): its exit is a failure the other ranks
   * learn from the rendezvous and the launcher, so nothing waits here for their goodbyes.
   */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    void this.worker.terminate();
  }

  /** Says goodbye to the other ranks (so this rank's exit is not taken for a failure). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, this.rank === 0 ? 60_000 : 5000); // rank 0 waits for the others' goodbyes
      this.worker.on('message', (m: FromAgent) => {
        if (m.op === 'closed') {
          clearTimeout(t);
          resolve();
        }
      });
      this.worker.postMessage({ op: 'close' } satisfies ToAgent);
    });
    await this.worker.terminate();
  }
}
