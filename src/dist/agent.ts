// The rendezvous agent: a worker thread of every rank that owns its TCP connections, so that a
// rank whose main thread is blocked (waiting on the GPU for an NCCL all-reduce whose peer died)
// still notices the failure and ends itself. Rank 0 listens on MASTER_ADDR:MASTER_PORT (the hub);
// every other rank connects to it. Through the hub the ranks exchange the NCCL unique id
// (broadcast), meet at barriers, and sum small host vectors (the step's loss, token counts,
// and whole gradients on the CPU backends). Sums are taken in rank order on the hub, so every
// rank gets bit-identical results.
//
// Failure: a rank that disconnects without saying goodbye, or falls silent for longer than the
// heartbeat timeout, makes the hub tell every other rank to stop; each prints one line naming the
// lost rank and ends its own process with SIGUSR2 (the only way out of a blocked CUDA call), which
// its launcher then reports. Before the rendezvous completes, problems go back to the main thread as
// errors instead (port in use, ranks that never came).
import { parentPort, workerData } from 'node:worker_threads';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { writeSync } from 'node:fs';
import { readFrames, writeFrame, type Frame } from './wire.js';

export interface AgentConfig {
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  /** Seconds to wait for every rank to join. */
  joinTimeoutS: number;
  /** Seconds of silence after which a peer counts as lost. */
  heartbeatTimeoutS: number;
}

/** Messages between the main thread and the agent. */
export type ToAgent =
  | { op: 'reduce'; seq: number; dtype: 'f32' | 'f64'; data: ArrayBuffer }
  | { op: 'bcast'; seq: number; data: ArrayBuffer | null }
  | { op: 'close' };
export type FromAgent =
  | { op: 'ready' }
  | { op: 'error'; message: string }
  | { op: 'result'; seq: number; data: ArrayBuffer }
  | { op: 'closed' };

const cfg = workerData as AgentConfig;
const port = parentPort!;
const post = (m: FromAgent, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
let ready = false;
let closing = false;

function fatal(message: string): never {
  if (!ready) {
    post({ op: 'error', message });
    // the main thread turns it into an error; nothing more to do here
    throw new Error(message);
  }
  writeSync(2, `minimind: rank ${cfg.rank}: ${message}; stopping this rank\n`);
  // SIGUSR2's default action ends the process even while its main thread waits in a CUDA call;
  // the launcher reads this signal as "stopped because another rank failed"
  process.kill(process.pid, 'SIGUSR2');
  throw new Error(message);
}

const arrayOf = (dtype: 'f32' | 'f64', b: Uint8Array) => {
  const copy = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  return dtype === 'f64' ? new Float64Array(copy) : new Float32Array(copy);
};

function heartbeat(socket: Socket, who: () => string): NodeJS.Timeout {
  let last = Date.now();
  socket.on('data', () => (last = Date.now()));
  return setInterval(() => {
    if (socket.writable) writeFrame(socket, { t: 'ping' });
    if (ready && !closing && Date.now() - last > cfg.heartbeatTimeoutS * 1000) fatal(`no word from ${who()} for ${cfg.heartbeatTimeoutS} s (hung or unreachable)`);
  }, 1000);
}

function hub(): void {
  const peers = new Map<number, Socket>();
  const saidBye = new Set<number>();
  const contributions = new Map<number, { dtype: 'f32' | 'f64'; parts: (Float32Array | Float64Array | undefined)[] }>();
  const timers: NodeJS.Timeout[] = [];
  const server: Server = createServer();
  const joinTimer = setTimeout(() => {
    const missing = [...Array(cfg.worldSize).keys()].filter((r) => r > 0 && !peers.has(r));
    fatal(`rendezvous: ranks ${missing.join(', ')} did not join within ${cfg.joinTimeoutS} s at ${cfg.masterAddr}:${cfg.masterPort} (are all nodes launched with the same --master-addr/--master-port and --nnodes?)`);
  }, cfg.joinTimeoutS * 1000);

  const abortAll = (reason: string) => {
    for (const [r, s] of peers) if (!saidBye.has(r) && s.writable) writeFrame(s, { t: 'abort', reason });
    fatal(reason);
  };
  const contribute = (seq: number, rank: number, dtype: 'f32' | 'f64', x: Float32Array | Float64Array) => {
    let c = contributions.get(seq);
    if (!c) contributions.set(seq, (c = { dtype, parts: new Array(cfg.worldSize) }));
    if (c.parts[rank]) abortAll(`rank ${rank} sent collective #${seq} twice (ranks out of step)`);
    if (c.parts.some((p) => p && p.length !== x.length)) abortAll(`collective #${seq}: rank ${rank} sent ${x.length} values, another rank a different count (ranks out of step)`);
    c.parts[rank] = x;
    if (c.parts.filter(Boolean).length < cfg.worldSize) return;
    contributions.delete(seq);
    const sum = c.dtype === 'f64' ? new Float64Array(x.length) : new Float32Array(x.length);
    for (const p of c.parts) for (let i = 0; i < sum.length; i++) sum[i] += p![i];
    const bytes = new Uint8Array(sum.buffer);
    for (const s of peers.values()) writeFrame(s, { t: 'result', seq }, bytes);
    post({ op: 'result', seq, data: sum.buffer as ArrayBuffer }, [sum.buffer as ArrayBuffer]);
  };

  server.on('connection', (socket) => {
    socket.setNoDelay(true);
    const addr = socket.remoteAddress; // gone once the socket closes
    let rank = -1;
    readFrames(socket, ({ header, payload }: Frame) => {
      if (header.t === 'hello') {
        const r = Number(header.rank);
        if (Number(header.worldSize) !== cfg.worldSize) {
          writeFrame(socket, { t: 'abort', reason: `rank 0 has WORLD_SIZE ${cfg.worldSize}, this rank ${header.worldSize}` });
          return void socket.destroy();
        }
        if (!(r > 0 && r < cfg.worldSize) || peers.has(r)) {
          writeFrame(socket, { t: 'abort', reason: `RANK ${r} is out of range or already taken (each rank must be unique in 0..${cfg.worldSize - 1})` });
          return void socket.destroy();
        }
        rank = r;
        peers.set(r, socket);
        timers.push(heartbeat(socket, () => `rank ${r} (${addr})`));
        if (peers.size === cfg.worldSize - 1) {
          clearTimeout(joinTimer);
          for (const s of peers.values()) writeFrame(s, { t: 'ready' });
          ready = true;
          post({ op: 'ready' });
        }
      } else if (header.t === 'reduce') contribute(Number(header.seq), rank, header.dtype as 'f32' | 'f64', arrayOf(header.dtype as 'f32' | 'f64', payload));
      else if (header.t === 'bye') saidBye.add(rank);
    });
    socket.on('error', () => {}); // 'close' follows and says what matters
    socket.on('close', () => {
      if (rank < 0 || saidBye.has(rank) || closing) return;
      abortAll(`rank ${rank} (${addr}) disconnected without finishing (it failed or was killed)`);
    });
  });
  server.on('error', (e: NodeJS.ErrnoException) => {
    fatal(e.code === 'EADDRINUSE' ? `rendezvous: port ${cfg.masterPort} is in use on this machine (another launch still running?); pick another with --master-port` : `rendezvous: cannot listen on ${cfg.masterAddr}:${cfg.masterPort}: ${e.message}`);
  });
  const loopback = cfg.masterAddr === '127.0.0.1' || cfg.masterAddr === 'localhost' || cfg.masterAddr === '::1';
  server.listen(cfg.masterPort, loopback ? cfg.masterAddr : undefined);

  port.on('message', (m: ToAgent) => {
    if (m.op === 'reduce') contribute(m.seq, 0, m.dtype, m.dtype === 'f64' ? new Float64Array(m.data) : new Float32Array(m.data));
    else if (m.op === 'bcast') {
      for (const s of peers.values()) writeFrame(s, { t: 'bcast', seq: m.seq }, new Uint8Array(m.data!));
      post({ op: 'result', seq: m.seq, data: m.data! });
    } else if (m.op === 'close') {
      // Say goodbye, then wait for every other rank to have closed its side (at most one step
      // behind), so that no rank sees rank 0 vanish while it still finishes.
      closing = true;
      for (const t of timers) clearInterval(t);
      for (const s of peers.values()) if (s.writable) writeFrame(s, { t: 'bye' });
      const open = [...peers.values()].filter((s) => !s.closed);
      let left = open.length;
      const done = () => {
        server.close();
        post({ op: 'closed' });
      };
      if (left === 0) done();
      for (const s of open) s.on('close', () => --left === 0 && done());
    }
  });
}

function spoke(): void {
  const deadline = Date.now() + cfg.joinTimeoutS * 1000;
  let hubSaidBye = false;
  let socket: Socket;
  let beat: NodeJS.Timeout | null = null;
  const connect = () => {
    socket = createConnection({ host: cfg.masterAddr, port: cfg.masterPort });
    socket.setNoDelay(true);
    let connected = false;
    socket.on('connect', () => {
      connected = true;
      writeFrame(socket, { t: 'hello', rank: cfg.rank, worldSize: cfg.worldSize });
      beat = heartbeat(socket, () => `rank 0 (${cfg.masterAddr}:${cfg.masterPort})`);
    });
    readFrames(socket, ({ header, payload }: Frame) => {
      if (header.t === 'ready') {
        ready = true;
        post({ op: 'ready' });
      } else if (header.t === 'result' || header.t === 'bcast') {
        const data = payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.byteLength) as ArrayBuffer;
        post({ op: 'result', seq: Number(header.seq), data }, [data]);
      } else if (header.t === 'abort') fatal(`rank 0 stopped the job: ${String(header.reason)}`);
      else if (header.t === 'bye') hubSaidBye = true;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (beat) clearInterval(beat);
      if (!connected) {
        // rank 0 is not listening yet: the ranks start in any order
        if (Date.now() > deadline) fatal(`rendezvous: could not reach rank 0 at ${cfg.masterAddr}:${cfg.masterPort} within ${cfg.joinTimeoutS} s (is rank 0 running? same --master-addr/--master-port?)`);
        setTimeout(connect, 250);
        return;
      }
      if (!hubSaidBye && !closing) fatal(`lost the connection to rank 0 (${cfg.masterAddr}:${cfg.masterPort}): it failed or was killed`);
    });
  };
  connect();
  port.on('message', (m: ToAgent) => {
    if (m.op === 'reduce') writeFrame(socket, { t: 'reduce', seq: m.seq, dtype: m.dtype }, new Uint8Array(m.data));
    else if (m.op === 'close') {
      closing = true;
      if (beat) clearInterval(beat);
      if (socket.writable) writeFrame(socket, { t: 'bye' });
      socket.on('close', () => post({ op: 'closed' }));
      socket.end();
    }
    // bcast on a non-root rank: the result arrives from the hub
  });
}

if (cfg.rank === 0) hub();
else spoke();
