// Byte-level BPE training, a faithful port of Hugging Face's `BpeTrainer` (tokenizers/src/models/bpe/
// trainer.rs) so the same corpus gives the very same merges:
//   1. pre-tokenize every sequence with the GPT-2 regex and count distinct words;
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
import { readCorpus, totalBytes } from './corpus.js';
import { Gpt2PreTokenizer } from './pretokenize.js';
import { buildTokenizerConfig, PRESETS, type PresetName } from './presets.js';
import { ProgressBar } from './progress.js';
import { Tokenizer, type TokenizerJson } from './tokenizer.js';

export interface TrainTokenizerOptions {
  /** Corpus files: *.jsonl (`text` or `conversations`) or plain text (one sequence per line). */
  files?: string[];
  /** In-memory sequences, used in addition to files (e.g. generated quickstart text). */
  texts?: Iterable<string>;
  vocabSize: number;
  /** Special tokens, given ids 0..n-1 in this order. Default: the preset's (ChatML without a preset). */
  specialTokens?: string[];
  /** Added tokens placed after specialTokens that stay non-special (minimind-3's <think>, ...). */
  nonSpecialTokens?: string[];
  /** 'v1' (<unk> <s> </s>), 'chatml' (minimind2) or 'minimind3' (36 added tokens); fills the fields below. */
  preset?: PresetName;
  chatTemplate?: string;
  bosToken?: string;
  eosToken?: string;
  padToken?: string;
  unkToken?: string;
  modelMaxLength?: number;
  /** Pairs seen fewer times are never merged (HF min_frequency, default 0). */
  minFrequency?: number;
  /** Draw progress bars on stderr. */
  progress?: boolean;
}

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

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Which preset applies and which added tokens are special. No preset and no specialTokens means
 * ChatML (minimind2); specialTokens equal to a preset's list (MiniMind-3 passes all 36 added tokens
 * to its trainer) picks that preset, so the config and the special=false marks come out as MiniMind's.
 */
function resolveSpecials(opts: TrainTokenizerOptions): { presetName?: PresetName; specials: string[]; plain: string[] } {
  let presetName = opts.preset;
  if (presetName !== undefined && !(presetName in PRESETS)) throw new Error(`unknown special-token preset '${presetName}' (v1, chatml, minimind3)`);
  const given = opts.specialTokens;
  if (presetName === undefined) {
    if (given === undefined) presetName = 'chatml';
    else {
      for (const [name, p] of Object.entries(PRESETS) as [PresetName, (typeof PRESETS)[PresetName]][]) {
        if (sameList(given, p.specialTokens) || sameList(given, [...p.specialTokens, ...p.nonSpecialTokens])) presetName = name;
      }
    }
  }
  const preset = presetName !== undefined ? PRESETS[presetName] : undefined;
  if (given === undefined || (preset && sameList(given, [...preset.specialTokens, ...preset.nonSpecialTokens]))) {
    return { presetName, specials: preset?.specialTokens ?? [], plain: opts.nonSpecialTokens ?? preset?.nonSpecialTokens ?? [] };
  }
  return { presetName, specials: given, plain: opts.nonSpecialTokens ?? [] };
}

/** Trains a byte-level BPE tokenizer (MiniMind's recipe) from files and/or texts. */
export function trainTokenizer(opts: TrainTokenizerOptions): Tokenizer {
  const { presetName, specials, plain } = resolveSpecials(opts);
  const preset = presetName !== undefined ? PRESETS[presetName] : undefined;
  const added = [...specials, ...plain];
  const distinct = new Set(added);
  if (distinct.size !== added.length) throw new Error('special tokens must be distinct');
  if (added.some((t) => t === '')) throw new Error('a special token cannot be empty');
  const minVocab = 256 + distinct.size;
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < minVocab) {
    throw new Error(`vocab size ${opts.vocabSize} is smaller than the 256-byte alphabet plus ${distinct.size} special tokens (${minVocab})`);
  }
  const files = opts.files ?? [];
  if (files.length === 0 && opts.texts === undefined) throw new Error('no training data: give files or texts');

  const counter = new WordCounter();
  const progress = opts.progress ?? false;
  if (files.length > 0) {
    const size = totalBytes(files);
    const bar = new ProgressBar('reading corpus', size, progress, 'MB');
    let read = 0;
    for (const seq of readCorpus(files, (n) => bar.update((read += n)))) counter.add(seq);
    bar.finish(read);
  }
  if (opts.texts !== undefined) for (const t of opts.texts) counter.add(t);

  const bar = new ProgressBar('computing merges', opts.vocabSize, progress);
  const { vocab, merges } = trainBpe(counter.counts, {
    vocabSize: opts.vocabSize,
    specialTokens: added,
    minFrequency: opts.minFrequency,
    onMerge: (n) => bar.update(n),
  });
  bar.finish(vocab.length);

  const addedTokens = added.map((content, id) => ({ id, content, special: id < specials.length }));
  const vocabObj: Record<string, number> = {};
  vocab.forEach((tok, id) => (vocabObj[tok] = id));
  const json: TokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens.map((t) => ({ id: t.id, content: t.content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: t.special })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: vocabObj, merges,
    },
  };
  const has = (t: string | undefined) => (t !== undefined && distinct.has(t) ? t : undefined);
  const config = buildTokenizerConfig({
    addedTokens,
    bosToken: opts.bosToken ?? has(preset?.bosToken),
    eosToken: opts.eosToken ?? has(preset?.eosToken),
    padToken: opts.padToken ?? has(preset?.padToken),
    unkToken: opts.unkToken ?? has(preset?.unkToken),
    modelMaxLength: opts.modelMaxLength ?? preset?.modelMaxLength ?? 32768,
    chatTemplate: opts.chatTemplate ?? preset?.chatTemplate,
    additionalSpecialTokens: presetName === 'minimind3' ? specials.slice(1) : [],
    extraConfig: preset?.extraConfig,
  });
  return new Tokenizer(json, config, 'trained tokenizer');
}
