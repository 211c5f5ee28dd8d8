// The launcher: one process per GPU (or per CPU rank) on this node, with torchrun's environment
// (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT),
// NCCL_NVLS_ENABLE=0 (NVLink multicast off) and MINIMIND_THREADS = cores / ranks for every rank.
// Several nodes: run it on each with the same --nnodes/--master-addr/--master-port and its own
// --node-rank.
//
// Failure: when a rank exits with an error or is killed, the launcher names it and stops the
// other local ranks (SIGTERM, then SIGKILL after a grace period); ranks on other nodes learn it
// from the rendezvous (agent.ts) and stop themselves. A rank that stopped only because another
// failed (it lost the rendezvous first) is not the cause: the others get a second to exit on
// their own, so the rank that did fail is named with its own exit code rather than killed. A rank that exits 130 was interrupted
// (Ctrl-C reaches every rank from the terminal) and is waited for, not treated as a failure.
// The ranks' stderr passes through the launcher; an identical `minimind:` line from several ranks
// (the same bad flag seen by each) is printed once.
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, constants } from 'node:os';
import { UserError } from '../core/errors.js';

export interface LaunchOptions {
  /** Processes on this node (one per GPU). */
  nprocPerNode: number;
  nnodes?: number;
  nodeRank?: number;
  masterAddr?: string;
  masterPort?: number;
  /** Arguments after `node` for every rank: the CLI script, the stage and its flags. */
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Seconds between SIGTERM and SIGKILL when stopping the ranks after a failure. */
  graceS?: number;
  /** The launcher's own lines (start, failure); the ranks' output goes to stderr directly. */
  log?: (message: string) => void;
  /** Where the ranks' stderr lines go (default: process.stderr). */
  stderr?: (line: string) => void;
}

export interface LaunchResult {
  /** 0 when every rank finished, 130 when interrupted, else the failed rank's code (128 + signal). */
  exitCode: number;
  /** The first rank that failed, and how. */
  failure: { rank: number; pid: number; how: string } | null;
}

export interface Launched {
  ranks: { rank: number; localRank: number; pid: number }[];
  done: Promise<LaunchResult>;
  /** Sends a signal to every live rank. */
  kill(signal: NodeJS.Signals): void;
}

export function validateLaunch(o: LaunchOptions): Required<Pick<LaunchOptions, 'nprocPerNode' | 'nnodes' | 'nodeRank' | 'masterAddr' | 'masterPort'>> {
  const nnodes = o.nnodes ?? 1;
  const nodeRank = o.nodeRank ?? 0;
  const masterPort = o.masterPort ?? 29500;
  const int = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new UserError(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int(o.nprocPerNode, '--nproc-per-node', 1);
  int(nnodes, '--nnodes', 1);
  int(nodeRank, '--node-rank', 0);
  if (nodeRank >= nnodes) throw new UserError(`--node-rank ${nodeRank} must be below --nnodes ${nnodes} (nodes are numbered from 0)`);
  if (!Number.isInteger(masterPort) || masterPort < 1 || masterPort > 65535) throw new UserError(`--master-port must be a TCP port (1..65535), got ${masterPort}`);
  const masterAddr = o.masterAddr ?? '127.0.0.1';
  if (nnodes > 1 && o.masterAddr === undefined) throw new UserError('--nnodes > 1 needs --master-addr (the address of node 0, reachable from every node)');
  return { nprocPerNode: o.nprocPerNode, nnodes, nodeRank, masterAddr, masterPort };
}

export function launch(o: LaunchOptions): Launched {
  const v = validateLaunch(o);
  const world = v.nnodes * v.nprocPerNode;
  const out = o.stderr ?? ((l: string) => process.stderr.write(l + '\n'));
  const said = new Set<string>();
  const children: { rank: number; localRank: number; child: ChildProcess; exited: boolean; stopped: boolean }[] = [];
  for (let local = 0; local < v.nprocPerNode; local++) {
    const rank = v.nodeRank * v.nprocPerNode + local;
    const env: NodeJS.ProcessEnv = {
      ...(o.env ?? process.env),
      RANK: String(rank),
      WORLD_SIZE: String(world),
      LOCAL_RANK: String(local),
      LOCAL_WORLD_SIZE: String(v.nprocPerNode),
      GROUP_RANK: String(v.nodeRank),
      MASTER_ADDR: v.masterAddr,
      MASTER_PORT: String(v.masterPort),
      NCCL_NVLS_ENABLE: '0',
    };
    // CPU ranks share this node's cores instead of each taking all of them (torchrun sets OMP_NUM_THREADS=1)
    env.MINIMIND_THREADS ??= String(Math.max(1, Math.floor(availableParallelism() / v.nprocPerNode)));
    const child = spawn(process.execPath, o.args, { env, stdio: ['inherit', 'inherit', 'pipe'] });
    let pending = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith('minimind: ')) {
          if (said.has(l)) continue;
          said.add(l);
        }
        out(l);
      }
    });
    children.push({ rank, localRank: local, child, exited: false, stopped: false });
  }
  o.log?.(`launch: node ${v.nodeRank} of ${v.nnodes}: ranks ${children[0].rank}..${children[children.length - 1].rank} of ${world} (pids ${children.map((c) => c.child.pid).join(', ')}), rendezvous ${v.masterAddr}:${v.masterPort}`);

  let failure: LaunchResult['failure'] = null;
  let failCode = 0;
  let failureIsConsequence = false;
  let interrupted = false;
  const timers: NodeJS.Timeout[] = [];
  const live = () => children.filter((c) => !c.exited);
  const kill = (signal: NodeJS.Signals) => {
    for (const c of live()) c.child.kill(signal);
  };
  // the launcher's own stop: a rank it signals is named only if nothing else explains the failure
  const stopOthers = () => {
    for (const c of live()) c.stopped = true;
    kill('SIGTERM');
    timers.push(setTimeout(() => kill('SIGKILL'), (o.graceS ?? 3) * 1000));
  };
  const done = new Promise<LaunchResult>((resolve) => {
    for (const c of children) {
      c.child.on('exit', (code, signal) => {
        c.exited = true;
        if (code === 130) interrupted = true;
        else if (code !== 0 || signal) {
          // a rank that stopped because of another's failure (SIGUSR2, agent.ts) is named only
          // when no rank of this node failed on its own
          // (a stage command quits on SIGTERM with exit code 143, src/cli/stage.ts)
          const consequence = signal === 'SIGUSR2' || (c.stopped && (signal !== null || code === 128 + constants.signals.SIGTERM));
          const how = consequence ? 'stopped because another rank failed' : signal ? `was killed by ${signal}` : `exited with code ${code}`;
          if (!failure || (failureIsConsequence && !consequence)) {
            failure = { rank: c.rank, pid: c.child.pid!, how };
            failureIsConsequence = consequence;
            failCode = code ?? 128 + (constants.signals[signal!] ?? 0);
          }
          if (live().length && !timers.length) {
            o.log?.(`launch: rank ${c.rank} (pid ${c.child.pid}) ${how}; stopping the other ${live().length} rank(s) of this node`);
            if (consequence) timers.push(setTimeout(stopOthers, 1000));
            else stopOthers();
          }
        }
        if (live().length === 0) {
          for (const t of timers) clearTimeout(t);
          resolve({ exitCode: failure ? failCode || 1 : interrupted ? 130 : 0, failure });
        }
      });
    }
  });
  return { ranks: children.map((c) => ({ rank: c.rank, localRank: c.localRank, pid: c.child.pid! })), done, kill };
}
