// The BPE model of a byte-level tokenizer: vocabulary, ranked merges, and the merge loop that turns
// one pre-tokenized word into ids. The loop is Hugging Face's `Word::merge_all`: a min-heap of
// candidate merges ordered by (rank, position) over a linked list of symbols, so any tokenizer.json
// (even one whose merges are not in creation order) encodes exactly as HF encodes it.
// Pairs are keyed by a number, `left * stride + right`, so Map lookups never build strings.
import { byteToChar, utf8Encoder } from './bytelevel.js';

const POS_SPAN = 16777216; // 2^24: heap key = rank * POS_SPAN + position

/**
 * Open-addressing hash map (left id, right id) -> merge rank on typed arrays: the merge loop's one
 * hot lookup, several times faster than a Map<number, number>.
 */
class PairTable {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly rank: Int32Array;
  private readonly mask: number;
  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.left = new Int32Array(size).fill(-1);
    this.right = new Int32Array(size);
    this.rank = new Int32Array(size);
    this.mask = size - 1;
  }
  private slot(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b)) & this.mask;
  }
  set(a: number, b: number, r: number): void {
    let i = this.slot(a, b);
    while (this.left[i] !== -1 && (this.left[i] !== a || this.right[i] !== b)) i = (i + 1) & this.mask;
    this.left[i] = a;
    this.right[i] = b;
    this.rank[i] = r;
  }
  /** The rank of (a, b), or -1 when the pair is not a merge. */
  get(a: number, b: number): number {
    const left = this.left, mask = this.mask;
    let i = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca6b)) & mask;
    for (;;) {
      const l = left[i];
      if (l === a && this.right[i] === b) return this.rank[i];
      if (l === -1) return -1;
      i = (i + 1) & mask;
    }
  }
}

export class BpeModel {
  readonly vocab: Map<string, number>;
  readonly idToToken: string[];
  /** merges[rank] = [left, right] token strings, in file order. */
  readonly merges: [string, string][];
  private readonly rankOf: PairTable; // (left, right) -> rank
  private readonly mergeNewId: Int32Array; // rank -> id of the merged token
  private readonly byteId = new Int32Array(256); // byte -> id of its byte-level char, -1 if absent
  private readonly ignoreMerges: boolean;
  private cache = new Map<string, number[]>();
  private readonly cacheCapacity = 200_000;
  // scratch buffers for the merge loop, grown on demand
  private sym = new Int32Array(64);
  private prev = new Int32Array(64);
  private next = new Int32Array(64);
  private heap = new Float64Array(64);

  constructor(vocab: Map<string, number>, merges: [string, string][], opts: { ignoreMerges?: boolean } = {}) {
    this.vocab = vocab;
    this.merges = merges;
    this.ignoreMerges = opts.ignoreMerges ?? false;
    let maxId = -1;
    for (const id of vocab.values()) if (id > maxId) maxId = id;
    this.idToToken = new Array(maxId + 1);
    for (const [tok, id] of vocab) this.idToToken[id] = tok;
    this.rankOf = new PairTable(merges.length);
    this.mergeNewId = new Int32Array(merges.length);
    for (let r = 0; r < merges.length; r++) {
      const [a, b] = merges[r];
      const ia = vocab.get(a), ib = vocab.get(b), inew = vocab.get(a + b);
      if (ia === undefined || ib === undefined || inew === undefined) {
        const missing = ia === undefined ? a : ib === undefined ? b : a + b;
        throw new Error(`merge ${r} ("${a} ${b}") uses token '${missing}' that is not in the vocab`);
      }
      // HF collects the list into a HashMap, so a repeated pair ends with its last rank.
      this.rankOf.set(ia, ib, r);
      this.mergeNewId[r] = inew;
    }
    for (let b = 0; b < 256; b++) this.byteId[b] = vocab.get(byteToChar[b]) ?? -1;
  }

  /** Appends the ids of one pre-tokenized word (raw text, not byte-level) to out. */
  encodeWord(word: string, out: number[]): void {
    // Long words (a Chinese sentence is one \p{L}+ word) rarely repeat: hashing them for the cache
    // costs more than it saves.
    const cacheable = word.length <= 24;
    let ids = cacheable ? this.cache.get(word) : undefined;
    if (ids === undefined) {
      ids = this.tokenizeWord(word);
      if (cacheable) {
        if (this.cache.size >= this.cacheCapacity) this.cache = new Map();
        this.cache.set(word, ids);
      }
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]);
  }

  clearCache(): void {
    this.cache = new Map();
  }

  private tokenizeWord(word: string): number[] {
    // 1. bytes -> initial symbols (ASCII fast path)
    let n = 0;
    let ascii = true;
    for (let i = 0; i < word.length; i++) if (word.charCodeAt(i) >= 128) { ascii = false; break; }
    let bytes: Uint8Array | null = null;
    const len = ascii ? word.length : (bytes = utf8Encoder.encode(word)).length;
    if (len > this.sym.length) this.grow(len);
    const sym = this.sym;
    for (let i = 0; i < len; i++) {
      const id = this.byteId[bytes === null ? word.charCodeAt(i) : bytes[i]];
      if (id >= 0) sym[n++] = id; // no unk token in byte-level BPE: an absent byte is dropped, as in HF
    }
    if (this.ignoreMerges) {
      let s = '';
      for (let i = 0; i < len; i++) s += byteToChar[bytes === null ? word.charCodeAt(i) : bytes[i]];
      const whole = this.vocab.get(s);
      if (whole !== undefined) return [whole];
    }
    if (n >= POS_SPAN) throw new Error(`a single pre-tokenized word of ${n} bytes is too long to encode`);
    if (n < 2) return Array.from(sym.subarray(0, n));
    if (n === 2) {
      const r = this.rankOf.get(sym[0], sym[1]);
      return r < 0 ? [sym[0], sym[1]] : [this.mergeNewId[r]];
    }
    return this.mergeAll(n);
  }

  private grow(len: number): void {
    const cap = Math.max(len, this.sym.length * 2);
    this.sym = new Int32Array(cap);
    this.prev = new Int32Array(cap);
    this.next = new Int32Array(cap);
    this.heap = new Float64Array(cap * 2);
  }

  /** HF Word::merge_all over sym[0..n): min-heap of (rank, pos), stale entries skipped. */
  private mergeAll(n: number): number[] {
    const { sym, prev, next, rankOf, mergeNewId } = this;
    this.heapSize = 0;
    // alive: prev[i] >= -1 ; a symbol merged into its left neighbour gets prev = -2
    for (let i = 0; i < n; i++) {
      prev[i] = i - 1;
      next[i] = i + 1 < n ? i + 1 : -1;
    }
    for (let i = 0; i + 1 < n; i++) {
      const r = rankOf.get(sym[i], sym[i + 1]);
      if (r >= 0) this.heapPush(r * POS_SPAN + i);
    }
    while (this.heapSize > 0) {
      const key = this.heapPop();
      const rank = Math.floor(key / POS_SPAN);
      const pos = key - rank * POS_SPAN;
      if (prev[pos] === -2) continue; // merged away
      const right = next[pos];
      if (right === -1) continue;
      const cur = rankOf.get(sym[pos], sym[right]);
      const newId = mergeNewId[rank];
      if (cur < 0 || mergeNewId[cur] !== newId) continue; // stale entry
      sym[pos] = newId;
      const rn = next[right];
      next[pos] = rn;
      prev[right] = -2;
      if (rn !== -1) prev[rn] = pos;
      const p = prev[pos];
      if (p >= 0) {
        const r = rankOf.get(sym[p], newId);
        if (r >= 0) this.heapPush(r * POS_SPAN + p);
      }
      if (rn !== -1) {
        const r = rankOf.get(newId, sym[rn]);
        if (r >= 0) this.heapPush(r * POS_SPAN + pos);
      }
    }
    const out: number[] = [];
    for (let i = 0; i !== -1; i = next[i]) out.push(sym[i]);
    return out;
  }

  private heapSize = 0;

  private heapPush(key: number): void {
    let heap = this.heap;
    if (this.heapSize === heap.length) {
      const h2 = new Float64Array(heap.length * 2);
      h2.set(heap);
      heap = this.heap = h2;
    }
    let i = this.heapSize++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p] <= key) break;
      heap[i] = heap[p];
      i = p;
    }
    heap[i] = key;
  }

  private heapPop(): number {
    const heap = this.heap;
    const top = heap[0];
    const n = --this.heapSize;
    const last = heap[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && heap[c + 1] < heap[c]) c++;
      if (heap[c] >= last) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = last;
    return top;
  }
}
