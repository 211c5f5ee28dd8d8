// The page's stand-in for Node's process and node:os: no environment variables, one process,
// stderr to the console; memory sizes from the browser where it tells them.
const memory = (): number => ((globalThis as { performance?: { memory?: { jsHeapSizeLimit?: number } } }).performance?.memory?.jsHeapSizeLimit ?? 4 * 2 ** 30);

export const process = {
  env: {} as Record<string, string | undefined>,
  pid: 1,
  platform: 'browser',
  argv: [] as string[],
  stderr: { write: (s: string) => { if (s.trim()) console.warn(s.trimEnd()); return true; }, isTTY: false, columns: 80 },
  stdout: { write: (s: string) => { if (s.trim()) console.log(s.trimEnd()); return true; }, isTTY: false, columns: 80 },
  memoryUsage: () => ({ rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 }),
  hrtime: { bigint: () => BigInt(Math.round(performance.now() * 1e6)) },
  on: (_event: string, _fn: (...a: unknown[]) => void) => process,
  off: (_event: string, _fn: (...a: unknown[]) => void) => process,
  once: (_event: string, _fn: (...a: unknown[]) => void) => process,
  kill: (pid: number, _signal?: number | string): true => {
    if (pid === 1) return true;
    throw Object.assign(new Error('no such process'), { code: 'ESRCH' });
  },
  cwd: () => '/',
};
export const hostname = (): string => 'browser';
export const totalmem = memory;
export const freemem = memory;
