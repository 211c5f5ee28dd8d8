// The tokenizer the data commands count and tokenize with, and its fingerprint: the hash of
// tokenizer.json + tokenizer_config.json that the training stages already use as their token
// cache key (train/common.ts loadTokenizer), so a pre-tokenized folder can be checked against
// the tokenizer a stage loads.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, asUserError } from '../core/errors.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { toDataTokenizer, type TokenizerLike } from '../data/tokenizer-like.js';
import { hashFiles } from '../data/token-cache.js';
import { chatOf, kindOf, textOf } from './schema.js';
import { toMessages, toolsOf } from '../data/encode.js';

export interface CorpusTokenizer {
  tok: TokenizerLike;
  vocabSize: number;
  fingerprint: string;
  dir: string;
}

export function tokenizerFingerprint(dir: string): string {
  return hashFiles([join(dir, 'tokenizer.json'), join(dir, 'tokenizer_config.json')]);
}

export function openTokenizer(dir: string, flag = '--tokenizer'): CorpusTokenizer {
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new UserError(`${flag} ${dir}: no tokenizer.json there (give a tokenizer or model folder)`);
  const t = asUserError(() => Tokenizer.load(dir), `${flag} ${dir}: `);
  return { tok: asUserError(() => toDataTokenizer(t, dir)), vocabSize: t.vocabSize, fingerprint: tokenizerFingerprint(dir), dir };
}

/** Tokens a record becomes in training: bos + text + eos, or the chat template rendered. */
export function tokensOf(t: CorpusTokenizer, v: Record<string, unknown>, field?: string): number {
  const kind = kindOf(v);
  if (field !== undefined || kind === 'text' || kind === 'unknown' || kind === 'dpo') return t.tok.encode(textOf(v, field)).length + 2;
  // the messages as the sft stage prepares them (tool_calls strings parsed, the system message's tools offered)
  const msgs = toMessages(chatOf(v, kind), 'row');
  return t.tok.encode(t.tok.applyChatTemplate(msgs, { tools: toolsOf(msgs) })).length;
}
