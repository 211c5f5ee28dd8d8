// Byte-level BPE training, a faithful port of Hugging Face's `BpeTrainer` (tokenizers/src/models/bpe/
// trainer.rs) so the same corpus gives the very same merges:
//   1. pre-tokenize every sequence with the GPT-2 split and count distinct words (WordCounter);
//   2. vocab = special tokens, then the 256 byte-level chars sorted by code point;
//   3. count adjacent pairs over distinct words (weighted by word count), remembering which words hold
//      each pair; push (count, pair, words) entries into a max-heap ordered by count, then by the
//      smallest (left id, right id);
//   4. pop the best pair; a stale entry (its count changed since it was pushed) is pushed back with the
//      current count; otherwise merge it in the words it lists, apply the +/- pair count changes, and
//      push one entry per pair that gained occurrences. Stop at vocab_size.
// HF quirks kept on purpose: the merged pair's own count is never decremented, stale entries are
// re-pushed with their old word lists, and a pair merged twice keeps its last rank.
import { byteLevelAlphabet, byteToChar, utf8Encoder } from './bytelevel.js';
import { Gpt2PreTokenizer } from './pretokenize.js';

/** Distinct pre-tokenized words of a corpus with their counts (raw text; byte-level comes later). */
export class WordCounter {
  readonly counts = new Map<string, number>();
  private readonly pre = new Gpt2PreTokenizer();
  private readonly onWord = (w: string) => this.counts.set(w, (this.counts.get(w) ?? 0) + 1);

  add(sequence: string): void {
    this.pre.forEachWord(sequence, this.onWord);
  }
}

interface HeapEntry {
  count: number;
  a: number;
  b: number;
  pos: number[]; // indices of words that held the pair when the entry was pushed
}

/** Max-heap by count, ties to the smallest (a, b): HF's `Ord for Merge`. */
class MergeHeap {
  private readonly h: HeapEntry[] = [];
  get size(): number {
    return this.h.length;
  }
  private static before(x: HeapEntry, y: HeapEntry): boolean {
    if (x.count !== y.count) return x.count > y.count;
    return x.a !== y.a ? x.a < y.a : x.b < y.b;
  }
  push(e: HeapEntry): void {
    const h = this.h;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!MergeHeap.before(e, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
  }
  pop(): HeapEntry {
    const h = this.h;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && MergeHeap.before(h[c + 1], h[c])) c++;
        if (!MergeHeap.before(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

export interface BpeResult {
  /** id -> token (byte-level string); specials first. */
  vocab: string[];
  /** merges in rank order, as byte-level token strings. */
  merges: [string, string][];
}

/** Learns merges from distinct words and counts (the core of HF's `BpeTrainer::do_train`). */
export function trainBpe(
  wordCounts: Map<string, number>,
  opts: { vocabSize: number; specialTokens: string[]; minFrequency?: number; onMerge?: (vocabLen: number) => void },
): BpeResult {
  const { vocabSize } = opts;
  const minFrequency = opts.minFrequency ?? 0;
  const idToWord: string[] = [];
  const wordToId = new Map<string, number>();
  const addToken = (s: string) => {
    if (!wordToId.has(s)) {
      wordToId.set(s, idToWord.length);
      idToWord.push(s);
    }
  };
  for (const s of opts.specialTokens) addToken(s);
  for (const c of byteLevelAlphabet()) addToken(c);
  const byteId = new Int32Array(256);
  for (let b = 0; b < 256; b++) byteId[b] = wordToId.get(byteToChar[b])!;

  // Distinct words as runs in one symbol buffer; a merge only shrinks a word, in place.
  const nWords = wordCounts.size;
  const wordStart = new Int32Array(nWords);
  const wordLen = new Int32Array(nWords);
  const counts = new Float64Array(nWords);
  const encoded: Uint8Array[] = new Array(nWords);
  let total = 0;
  let w = 0;
  for (const [word, c] of wordCounts) {
    const bytes = utf8Encoder.encode(word);
    encoded[w] = bytes;
    wordStart[w] = total;
    wordLen[w] = bytes.length;
    counts[w] = c;
    total += bytes.length;
    w++;
  }
  const sym = new Int32Array(total);
  for (let i = 0; i < nWords; i++) {
    const bytes = encoded[i], s = wordStart[i];
    for (let j = 0; j < bytes.length; j++) sym[s + j] = byteId[bytes[j]];
  }
  encoded.length = 0;

  // Pair keys are a * V + b; every id stays below vocabSize (training stops there).
  const V = Math.max(vocabSize, idToWord.length + 1);
  const pairCounts = new Map<number, number>();
  let where = new Map<number, number[]>();
  const note = (key: number, wi: number) => {
    const l = where.get(key);
    if (l === undefined) where.set(key, [wi]);
    else if (l[l.length - 1] !== wi) l.push(wi);
  };
  for (let i = 0; i < nWords; i++) {
    const s = wordStart[i], e = s + wordLen[i], c = counts[i];
    for (let j = s; j + 1 < e; j++) {
      const key = sym[j] * V + sym[j + 1];
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + c);
      note(key, i);
    }
  }
  const heap = new MergeHeap();
  const flushWhere = () => {
    for (const [key, pos] of where) {
      const count = pairCounts.get(key)!;
      if (count > 0) heap.push({ count, a: Math.floor(key / V), b: key % V, pos });
    }
    where = new Map();
  };
  flushWhere();

  const merges: [number, number][] = [];
  const change = (x: number, y: number, delta: number, wi: number) => {
    const key = x * V + y;
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
    if (delta > 0) note(key, wi);
  };
  while (wordToId.size < vocabSize && heap.size > 0) {
    const top = heap.pop();
    const current = pairCounts.get(top.a * V + top.b)!;
    if (top.count !== current) {
      top.count = current;
      heap.push(top);
      continue;
    }
    if (top.count < 1 || minFrequency > top.count) break;
    const { a, b } = top;
    const newToken = idToWord[a] + idToWord[b];
    addToken(newToken);
    const newId = wordToId.get(newToken)!;
    merges.push([a, b]);
    // HF Word::merge on every listed word: the pairs around each merged occurrence lose one
    // occurrence (times the word count) and the pairs with the new token gain one.
    for (const wi of top.pos) {
      const s = wordStart[wi], end = s + wordLen[wi], c = counts[wi];
      let r = s, o = s;
      while (r < end) {
        if (r + 1 < end && sym[r] === a && sym[r + 1] === b) {
          if (o > s) {
            const p = sym[o - 1];
            change(p, a, -c, wi);
            change(p, newId, c, wi);
          }
          if (r + 2 < end) {
            const nx = sym[r + 2];
            change(b, nx, -c, wi);
            change(newId, nx, c, wi);
          }
          sym[o++] = newId;
          r += 2;
        } else {
          sym[o++] = sym[r++];
        }
      }
      wordLen[wi] = o - s;
    }
    flushWhere();
    opts.onMerge?.(wordToId.size);
  }

  // A pair merged twice keeps its last rank (HF collects the list into a HashMap).
  const lastRank = new Map<number, number>();
  merges.forEach(([a, b], i) => lastRank.set(a * V + b, i));
  const ordered = [...lastRank.entries()].sort((x, y) => x[1] - y[1]);
  return {
    vocab: idToWord,
    merges: ordered.map(([key]) => [idToWord[Math.floor(key / V)], idToWord[key % V]]),
  };
}

