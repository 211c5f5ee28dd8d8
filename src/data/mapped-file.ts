// A token store's files memory-mapped (the native addon's mapFile): a stage reads its samples from
// the page cache without a copy in its own heap, whatever the file's size, and the ranks of
// `minimind launch` on one machine share those pages instead of each holding the corpus.
// MINIMIND_MMAP=0 turns it off (the store then reads into memory, or sample by sample past 1 GB);
// without the addon, or in a page (mapped-file.browser.ts), there is no mapping either.
import { loadAddon } from '../backends/cpu/index.js';
import { process } from '../io/process.js';

/** The file mapped read-only, or null where it cannot be. The buffer must never be written. */
export function mapFile(path: string): ArrayBuffer | null {
  if (process.env.MINIMIND_MMAP === '0') return null;
  const map = loadAddon()?.mapFile as ((path: string) => ArrayBuffer | null) | undefined; // an addon built before mapFile has none
  return map ? map(path) : null;
}
