// Runs a pure per-batch function on worker threads, results in input order. A worker module
// exports makeHandler(init) -> (batch) => results, and calls serveWorker(makeHandler) at its end so
// the same file works both in the main thread (threads <= 1: no workers, no copies) and in a
// worker. At most 2 batches per worker are in flight, so memory stays bounded on any input size.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { UserError } from '../core/errors.js';

export type Handler<I, O> = (batch: I[]) => O[];

/**
 * Worker threads to use without --threads: the cores less one for the reader (at least 1), at
 * most `cap` (a worker that loads a tokenizer holds ~60 MB of its own).
 */
export function defaultThreads(cap = Infinity): number {
  return Math.max(1, Math.min(cap, availableParallelism() - 1));
}

/** The default for workers that each load a tokenizer: 8 keep such a job under 1 GB on a many-core machine. */
export const TOKENIZER_THREADS = 8;

/** Below this much input, encoding stays on one thread without --threads (~1 s of work; each worker loads its tokenizer first). */
export const SMALL_DATA_BYTES = 8e6;

/** Threads to encode `files` with: --threads N, else 1 for small inputs, else the cores less one up to TOKENIZER_THREADS. */
export function encodeThreads(files: readonly string[], threads: number | undefined): number {
  if (threads !== undefined) return threads;
  const bytes = files.reduce((s, f) => s + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
  return bytes < SMALL_DATA_BYTES ? 1 : defaultThreads(TOKENIZER_THREADS);
}

/** Call at the end of a worker module: in a worker thread, answers batches with the handler. */
export function serveWorker<I, O>(makeHandler: (init: unknown) => Handler<I, O>): void {
  if (isMainThread || !parentPort || !(workerData as { corpusWorker?: boolean })?.corpusWorker) return;
  const handle = makeHandler((workerData as { init: unknown }).init);
  const port = parentPort;
  port.on('message', (m: { id: number; batch: I[] }) => {
    try {
      port.postMessage({ id: m.id, out: handle(m.batch) });
    } catch (e) {
      // a UserError (bad input or setting) stays one across the thread boundary: one minimind: line, not a stack trace
      port.postMessage({ id: m.id, error: (e as Error).message, user: e instanceof UserError });
    }
  });
}

/**
 * The most worker threads a job may start: the machine's hardware threads, or 8. More only cost:
 * each worker starts its own JavaScript engine (64 workers took 0.8 GB and 5 s to answer a
 * 2-row file; 100,000 ended the process in a V8 out-of-memory abort).
 */
export function maxThreads(): number {
  return Math.max(8, availableParallelism());
}

/** Maps each batch of `source` through the worker module's handler; yields result batches in order. */
export async function* mapBatches<I, O>(source: AsyncIterable<I[]>, module: URL, init: unknown, threads: number): AsyncGenerator<O[]> {
  if (threads > maxThreads()) throw new UserError(`--threads ${threads}: at most ${maxThreads()} on this machine (${availableParallelism()} hardware threads; more workers only add memory)`);
  if (threads <= 1) {
    const mod = (await import(module.href)) as { makeHandler: (init: unknown) => Handler<I, O> };
    const handle = mod.makeHandler(init);
    for await (const batch of source) yield handle(batch);
    return;
  }
  const workers = Array.from({ length: threads }, () => new Worker(module, { workerData: { corpusWorker: true, init } }));
  const pending = new Map<number, { resolve: (o: O[]) => void; reject: (e: Error) => void }>();
  for (const w of workers) {
    w.on('message', (m: { id: number; out?: O[]; error?: string; user?: boolean }) => {
      const p = pending.get(m.id)!;
      pending.delete(m.id);
      if (m.error !== undefined) p.reject(m.user ? new UserError(m.error) : new Error(m.error));
      else p.resolve(m.out!);
    });
    w.on('error', (e) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    });
  }
  const queue: Promise<O[]>[] = [];
  let id = 0;
  try {
    for await (const batch of source) {
      const k = id++;
      queue.push(new Promise<O[]>((resolve, reject) => {
        pending.set(k, { resolve, reject });
        workers[k % threads].postMessage({ id: k, batch });
      }));
      if (queue.length >= 2 * threads) yield await queue.shift()!;
    }
    while (queue.length > 0) yield await queue.shift()!;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Groups an async stream into arrays of `size`. */
export async function* batched<T>(source: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const x of source) {
    batch.push(x);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
