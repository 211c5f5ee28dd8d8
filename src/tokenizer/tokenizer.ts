// The Tokenizer: a Hugging Face tokenizer.json (byte-level BPE, as MiniMind ships) plus its
// tokenizer_config.json, with encode / decode / streaming decode / chat template, read and written
// in HF's own file format so files and ids are interchangeable with `tokenizers` and transformers.
import { existsSync, readFileSync, rmSync, statSync } from '../io/fs.js';
import { writeFileAtomic } from '../core/write-file.js';
import { makeFolder } from '../core/paths.js';
import { quoteUserText } from '../core/errors.js';
import { MAX_VOCAB_SIZE } from '../model/config.js';
import { dirname, join } from '../io/path.js';
import { AddedVocabulary, type AddedToken } from './added.js';
import { BpeModel } from './bpe.js';
import { tokenBytes } from './bytelevel.js';
import { Gpt2PreTokenizer } from './pretokenize.js';
import { renderChatTemplate, type ChatMessage, type ChatTemplateOptions } from './chat.js';

/** tokenizer.json as HF writes it (only the fields we read are typed). */
export interface TokenizerJson {
  version?: string;
  truncation?: unknown;
  padding?: unknown;
  added_tokens?: Partial<AddedToken>[];
  normalizer?: { type: string; [k: string]: unknown } | null;
  pre_tokenizer?: { type: string; add_prefix_space?: boolean; trim_offsets?: boolean; use_regex?: boolean } | null;
  post_processor?: { type: string; [k: string]: unknown } | null;
  decoder?: { type: string; [k: string]: unknown } | null;
  model: {
    type?: string;
    dropout?: number | null;
    unk_token?: string | null;
    continuing_subword_prefix?: string | null;
    end_of_word_suffix?: string | null;
    fuse_unk?: boolean;
    byte_fallback?: boolean;
    ignore_merges?: boolean;
    vocab: Record<string, number>;
    merges: (string | [string, string])[];
  };
}

/** tokenizer_config.json (transformers); special tokens may be strings or AddedToken objects. */
export type TokenizerConfig = Record<string, unknown> & { chat_template?: string | { name: string; template: string }[] };

export type { ChatMessage, ChatTemplateOptions };

export class Tokenizer {
  readonly json: TokenizerJson;
  readonly config: TokenizerConfig;
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
  readonly unkTokenId?: number;
  readonly chatTemplate?: string;
  /** Where this tokenizer came from (its folder, or 'trained tokenizer'), for errors. */
  private readonly where: string;
  private readonly bpe: BpeModel;
  private readonly added: AddedVocabulary;
  private readonly pre: Gpt2PreTokenizer;
  private readonly idBytes: (Uint8Array | undefined)[] = [];
  private longest: number | undefined;

  /** Builds a tokenizer from parsed tokenizer.json / tokenizer_config.json; `source` names them in errors. */
  constructor(json: TokenizerJson, config: TokenizerConfig = {}, source = 'tokenizer.json') {
    checkSupported(json, source);
    this.where = source.endsWith('tokenizer.json') ? dirname(source) : source;
    this.json = json;
    this.config = config;
    const vocab = new Map<string, number>();
    for (const [tok, id] of Object.entries(json.model.vocab)) {
      if (!Number.isInteger(id) || id < 0 || id >= MAX_VOCAB_SIZE) throw new Error(`${source}: vocab entry '${quoteUserText(tok, 40)}' has invalid id ${String(id)} (ids are integers in [0, ${MAX_VOCAB_SIZE}))`);
      vocab.set(tok, id);
    }
    const merges = json.model.merges.map((m, i): [string, string] => {
      if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
      if (typeof m === 'string') {
        const sp = m.indexOf(' ');
        if (sp > 0 && sp === m.lastIndexOf(' ')) return [m.slice(0, sp), m.slice(sp + 1)];
      }
      throw new Error(`${source}: merge ${i} (${JSON.stringify(m)}) is neither "a b" nor ["a", "b"]`);
    });
    try {
      this.bpe = new BpeModel(vocab, merges, { ignoreMerges: json.model.ignore_merges === true });
    } catch (e) {
      throw new Error(`${source}: ${(e as Error).message}`);
    }
    // Ids as HF's loader assigns them (AddedVocabulary::add_tokens): a content already in the model
    // vocab keeps its vocab id; any other takes the next id after the model vocab and the added tokens
    // so far. For a well-formed file these are the ids written in it.
    const addedTokens: AddedToken[] = [];
    const addedIds = new Map<string, number>();
    let maxAdded = -1;
    (json.added_tokens ?? []).forEach((t, i) => {
      if (typeof t.content !== 'string' || !Number.isInteger(t.id)) throw new Error(`${source}: added_tokens[${i}] needs a string 'content' and an integer 'id'`);
      let id = vocab.get(t.content) ?? addedIds.get(t.content);
      if (id === undefined) id = maxAdded >= vocab.size || vocab.size === 0 ? maxAdded + 1 : vocab.size;
      // HF renumbers silently; a written id past every id the file can have (vocabulary plus added
      // tokens) is no renumbering of a well-formed file but a damaged or hand-edited one.
      const idCount = vocab.size + (json.added_tokens ?? []).length;
      if (t.id! < 0 || t.id! >= idCount) throw new Error(`${source}: added_tokens[${i}] '${quoteUserText(t.content, 40)}' has id ${t.id}, outside the ${idCount} ids of this tokenizer (vocabulary and added tokens); the file is damaged`);
      addedIds.set(t.content, id);
      maxAdded = Math.max(maxAdded, id);
      addedTokens.push({
        id, content: t.content, single_word: t.single_word ?? false, lstrip: t.lstrip ?? false,
        rstrip: t.rstrip ?? false, normalized: t.normalized ?? !(t.special ?? false), special: t.special ?? false,
      });
    });
    this.added = new AddedVocabulary(addedTokens);
    const pt = json.pre_tokenizer!;
    this.pre = new Gpt2PreTokenizer({ addPrefixSpace: pt.add_prefix_space ?? true, useRegex: pt.use_regex ?? true });
    let maxId = this.bpe.idToToken.length - 1;
    for (const t of addedTokens) maxId = Math.max(maxId, t.id);
    this.vocabSize = maxId + 1;
    this.bosTokenId = this.configTokenId('bos_token');
    this.eosTokenId = this.configTokenId('eos_token');
    this.padTokenId = this.configTokenId('pad_token');
    this.unkTokenId = this.configTokenId('unk_token');
    const ct = config.chat_template;
    if (typeof ct === 'string') this.chatTemplate = ct;
    else if (Array.isArray(ct)) this.chatTemplate = ct.find((t) => t.name === 'default')?.template ?? ct[0]?.template;
  }

  /** Loads a folder holding tokenizer.json (+ tokenizer_config.json), or a tokenizer.json path. */
  static load(pathOrDir: string): Tokenizer {
    if (!existsSync(pathOrDir)) throw new Error(`tokenizer not found: ${pathOrDir}`);
    const isDir = statSync(pathOrDir).isDirectory();
    const jsonPath = isDir ? join(pathOrDir, 'tokenizer.json') : pathOrDir;
    if (!existsSync(jsonPath)) throw new Error(`no tokenizer.json in ${pathOrDir}`);
    const json = readJson(jsonPath) as TokenizerJson;
    const cfgPath = join(dirname(jsonPath), 'tokenizer_config.json');
    const config = existsSync(cfgPath) ? (readJson(cfgPath) as TokenizerConfig) : {};
    for (const [p, v] of [[jsonPath, json], [cfgPath, config]] as const) {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${p}: expected a JSON object`);
    }
    return new Tokenizer(json, config, jsonPath);
  }

  /** Writes tokenizer.json and tokenizer_config.json into dir (created if needed), in HF's layout. */
  save(dir: string): void {
    const created = makeFolder(dir);
    try {
      writeFileAtomic(join(dir, 'tokenizer.json'), stringifyTokenizerJson(this.json));
      writeFileAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(this.config, null, 2) + '\n');
    } catch (e) {
      if (created) {
        // a failed save leaves nothing behind
        for (const f of ['tokenizer.json', 'tokenizer_config.json']) rmSync(join(created.path, f), { force: true });
        created.remove();
      }
      throw e;
    }
  }

  /**
   * Ids of text. Added/special tokens in the text become their single id; no BOS/EOS is added.
   * With maxTokens, encoding stops at the first word that takes the count past it (a server
   * refusing an over-long prompt need not tokenize all of it): more than maxTokens ids then means
   * "longer than maxTokens", and the ids are a prefix of the full encoding.
   */
  encode(text: string, maxTokens = Infinity): number[] {
    const out: number[] = [];
    const bpe = this.bpe;
    const onWord = (w: string) => {
      bpe.encodeWord(w, out);
      return out.length <= maxTokens;
    };
    for (const seg of this.added.split(text)) {
      if (seg.text === undefined) out.push(seg.id);
      else this.pre.forEachWord(seg.text, onWord);
      if (out.length > maxTokens) break;
    }
    return out;
  }

  /** The most UTF-8 bytes one token stands for: a text of b bytes has at least b / this many tokens. */
  get maxTokenBytes(): number {
    if (this.longest === undefined) {
      this.longest = 1;
      for (let id = 0; id < this.vocabSize; id++) this.longest = Math.max(this.longest, this.bytesOf(id, false)?.length ?? 0);
    }
    return this.longest;
  }

  encodeBatch(texts: string[]): number[][] {
    return texts.map((t) => this.encode(t));
  }

  /** Text of ids (HF `decode`): unknown ids are dropped; invalid UTF-8 becomes U+FFFD. */
  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean } = {}): string {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.bytesOf(ids[i], opts.skipSpecialTokens ?? false);
      if (b !== undefined) {
        parts.push(b);
        total += b.length;
      }
    }
    const buf = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      buf.set(p, o);
      o += p.length;
    }
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(buf);
  }

  /**
   * Incremental decoding for generation: push(id) returns only the text that is complete so far;
   * bytes of a character still being spelled out are held back until it completes (or until flush,
   * which returns what is left, with U+FFFD for an unfinished character).
   */
  decodeStream(opts: { skipSpecialTokens?: boolean } = {}): { push(id: number): string; flush(): string } {
    const dec = new TextDecoder('utf-8', { ignoreBOM: true });
    const skip = opts.skipSpecialTokens ?? false;
    return {
      push: (id: number) => {
        const b = this.bytesOf(id, skip);
        return b === undefined ? '' : dec.decode(b, { stream: true });
      },
      flush: () => dec.decode(),
    };
  }

  tokenToId(token: string): number | undefined {
    return this.added.byContent.get(token)?.id ?? this.bpe.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.added.byId.get(id)?.content ?? this.bpe.idToToken[id];
  }

  /**
   * The bytes token `id` stands for: UTF-8 of an added token's text, or a byte-level token's raw
   * bytes (possibly part of a character). undefined for an id outside the vocabulary.
   */
  tokenBytesOf(id: number): Uint8Array | undefined {
    return this.bytesOf(id, false);
  }

  /** True for ids of added tokens marked special (what skipSpecialTokens drops). */
  isSpecialId(id: number): boolean {
    return this.added.isSpecial(id);
  }

  /** Renders the chat template of tokenizer_config.json as transformers' apply_chat_template(tokenize=False). */
  applyChatTemplate(messages: ChatMessage[], opts: ChatTemplateOptions = {}): string {
    if (this.chatTemplate === undefined) throw new Error('this tokenizer has no chat_template in its tokenizer_config.json');
    return renderChatTemplate(this.chatTemplate, messages, opts, this.specialTokensMap(), this.where);
  }

  /** bos_token, eos_token, ... as strings, for the template context (transformers passes them too). */
  private specialTokensMap(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'additional_special_tokens']) {
      const v = this.config[k];
      if (v === undefined || v === null) continue;
      out[k] = Array.isArray(v) ? v.map(tokenContent) : tokenContent(v);
    }
    return out;
  }

  private configTokenId(key: string): number | undefined {
    const v = this.config[key];
    if (v === undefined || v === null) return undefined;
    return this.tokenToId(tokenContent(v));
  }

  private bytesOf(id: number, skipSpecial: boolean): Uint8Array | undefined {
    if (skipSpecial && this.added.isSpecial(id)) return undefined;
    let b = this.idBytes[id];
    if (b === undefined) {
      const tok = this.idToToken(id);
      if (tok === undefined) return undefined;
      b = this.idBytes[id] = tokenBytes(tok);
    }
    return b;
  }
}

/**
 * tokenizer.json text as HF's `save()` writes it (2-space indent, vocab in id order). JSON.stringify
 * alone would list integer-like tokens ("0", "12") first, so the vocab is written by hand.
 */
export function stringifyTokenizerJson(json: TokenizerJson): string {
  const mark = '\u0000vocab\u0000';
  const text = JSON.stringify({ ...json, model: { ...json.model, vocab: mark } }, null, 2);
  const entries = Object.entries(json.model.vocab).sort((a, b) => a[1] - b[1]);
  const vocab = entries.length === 0 ? '{}' : `{\n${entries.map(([k, v]) => `      ${JSON.stringify(k)}: ${v}`).join(',\n')}\n    }`;
  return text.replace(JSON.stringify(mark), () => vocab);
}

function tokenContent(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return String(v);
}

function readJson(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** Rejects tokenizer.json files this byte-level BPE cannot apply exactly, naming what is unsupported. */
function checkSupported(json: TokenizerJson, source: string): void {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${source}: expected a JSON object`);
  const m = json.model;
  if (!m || typeof m !== 'object') throw new Error(`${source}: missing "model"`);
  const type = m.type ?? (m.merges ? 'BPE' : undefined);
  if (type !== 'BPE') throw new Error(`${source}: unsupported model type '${String(type)}' (only byte-level BPE is supported)`);
  if (!m.vocab || typeof m.vocab !== 'object') throw new Error(`${source}: model.vocab is missing or not an object`);
  if (!Array.isArray(m.merges)) throw new Error(`${source}: model.merges is missing or not an array`);
  if (m.dropout !== undefined && m.dropout !== null && m.dropout !== 0) throw new Error(`${source}: BPE dropout is not supported`);
  if (m.byte_fallback) throw new Error(`${source}: byte_fallback BPE is not supported (byte-level BPE needs none)`);
  if (m.continuing_subword_prefix || m.end_of_word_suffix) throw new Error(`${source}: continuing_subword_prefix / end_of_word_suffix are not supported`);
  if (json.normalizer) throw new Error(`${source}: normalizer '${json.normalizer.type}' is not supported (byte-level BPE uses none)`);
  const pt = json.pre_tokenizer;
  if (!pt || pt.type !== 'ByteLevel') throw new Error(`${source}: pre_tokenizer '${pt ? pt.type : 'null'}' is not supported (expected ByteLevel)`);
  const dec = json.decoder;
  if (dec && dec.type !== 'ByteLevel') throw new Error(`${source}: decoder '${dec.type}' is not supported (expected ByteLevel)`);
}
