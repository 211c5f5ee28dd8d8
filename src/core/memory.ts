// Refusing work that cannot fit in this machine's memory before allocating it. A hostile or
// mistaken input (a config with a billion layers, a checkpoint that declares terabytes) would
// otherwise grow the process until the operating system kills it; here it is one line that
// names the estimate, what the machine has, and the input that asked for it.
import { UserError } from './errors.js';
import { freemem, process, totalmem } from '../io/process.js';

/** Bytes as "1.23 GB" (decimal units, as `df` and most file managers print them). */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = n / 1e3;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

/**
 * The memory a new allocation may use: what the OS reports free (Linux: MemAvailable) plus what
 * this process already holds (it can reuse that), capped by the machine's total and by a container's
 * memory limit (cgroup: process.constrainedMemory). MINIMIND_MEMORY_LIMIT (bytes) lowers it, for
 * tests and for sharing a machine.
 */
export function availableMemory(): number {
  let free = Math.min(totalmem(), freemem() + process.memoryUsage().rss);
  const cgroup = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  if (cgroup !== undefined && cgroup > 0 && cgroup < 2 ** 60) free = Math.min(free, cgroup);
  const limit = Number(process.env.MINIMIND_MEMORY_LIMIT);
  return Number.isFinite(limit) && limit > 0 ? Math.min(free, limit) : free;
}

/**
 * Throws a UserError when `bytes` (an estimate of what `what` needs) exceeds the available memory.
 * `what` names the input ("config.json of model/: 1000000000 layers"), `fix` says what to do.
 */
export function checkFitsInMemory(bytes: number, what: string, fix: string): void {
  const avail = availableMemory();
  if (!(bytes <= avail)) {
    throw new UserError(`${what} needs about ${Number.isFinite(bytes) ? formatBytes(bytes) : 'unbounded memory'} but this machine has ${formatBytes(avail)} available (${formatBytes(totalmem())} in all); ${fix}`);
  }
}
