// trainTokenizer: MiniMind's tokenizer recipe end to end — stream the corpus files, count words,
// learn merges (bpe-trainer.ts, HF-identical), and wrap the result as a Tokenizer with HF's
// tokenizer.json layout and a tokenizer_config.json (bos/eos/pad, chat template) from a preset.
import { readCorpus, totalBytes } from './corpus.js';
import { trainBpe, WordCounter } from './bpe-trainer.js';
import { buildTokenizerConfig, PRESETS, type PresetName } from './presets.js';
import { ProgressBar } from './progress.js';
import { Tokenizer, type TokenizerJson } from './tokenizer.js';
import { MAX_VOCAB_SIZE } from '../model/config.js';

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
  if (opts.vocabSize > MAX_VOCAB_SIZE) throw new Error(`vocab size ${opts.vocabSize} is over the limit of ${MAX_VOCAB_SIZE} (MiniMind uses 6400)`);
  const files = opts.files ?? [];
  if (files.length === 0 && opts.texts === undefined) throw new Error('no training data: give files or texts');

  const counter = new WordCounter();
  let anyText = false; // a corpus of blank lines counts words ('Ċ', 'ĠĠ') but holds no text
  const add = (seq: string) => {
    if (!anyText && /\S/.test(seq)) anyText = true;
    counter.add(seq);
  };
  const progress = opts.progress ?? false;
  if (files.length > 0) {
    const size = totalBytes(files);
    const bar = new ProgressBar('reading corpus', size, progress, 'MB');
    let read = 0;
    for (const seq of readCorpus(files, (n) => bar.update((read += n)))) add(seq);
    bar.finish(read);
  }
  if (opts.texts !== undefined) for (const t of opts.texts) add(t);
  if (!anyText) throw new Error(`no text to train on${files.length ? ` in ${files.join(', ')}` : ''} (empty corpus${counter.counts.size > 0 ? ': only whitespace' : ''})`);

  const bar = new ProgressBar('computing merges', opts.vocabSize, progress);
  const { vocab, merges } = trainBpe(counter.counts, {
    vocabSize: opts.vocabSize,
    specialTokens: added,
    minFrequency: opts.minFrequency,
    onMerge: (n) => bar.update(n),
  });
  bar.finish(vocab.length);
  if (merges.length === 0 && opts.vocabSize > minVocab) {
    // Words of one character each: nothing to learn beyond the byte alphabet.
    throw new Error(`no two adjacent characters to merge in the text${files.length ? ` of ${files.join(', ')}` : ''} (its words are single characters); train on real text`);
  }

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
