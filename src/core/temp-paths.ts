// Temporary files and folders that outputs are written into before they are renamed into place
// (corpus/writer.ts, corpus/shuffle.ts, data/token-cache.ts). A process ended by Ctrl-C or SIGTERM
// never runs its finally blocks, so the command line's signal handler (cli/outputs.ts
// removeTempsOnSignal) removes what is listed here; without it an interrupted `minimind data`
// command left its half-written `.out.jsonl.tmp-PID` (as large as the output had grown) behind.
import { rmSync } from '../io/fs.js';

const live = new Set<string>();

/** Lists a temporary path; the returned function takes it off the list (once renamed or removed). */
export function trackTemp(path: string): () => void {
  live.add(path);
  return () => void live.delete(path);
}

/** Removes every listed temporary path (from a signal handler, just before the process exits). */
export function removeTemps(): void {
  for (const p of live) rmSync(p, { recursive: true, force: true });
  live.clear();
}
