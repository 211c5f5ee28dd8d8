// A model and its tokenizer belong together: the embedding row i means token i of the tokenizer it
// was trained with. Every loader that pairs them (generate, chat, serve, eval, the training stages)
// calls checkTokenizerForModel, which refuses
//   - a tokenizer with more ids than the model has embedding rows (an id past the last row would
//     crash generation or make the server answer garbage), and
//   - for folders this project wrote, a tokenizer other than the one recorded in config.json's
//     `tokenizer_fingerprint` (MiniMind v1 and HEAD tokenizers both have 6400 tokens: swapped
//     for each other, nothing else would notice, and every answer would be silent garbage).
import { createHash } from '../io/hash.js';
import { existsSync, readFileSync } from '../io/fs.js';
import { join, resolve } from '../io/path.js';
import { UserError } from '../core/errors.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';

/** The config.json field saveModelFolder records the fingerprint in. */
export const FINGERPRINT_KEY = 'tokenizer_fingerprint';

/**
 * What decides the ids of a tokenizer, hashed: the vocabulary, the merges and the added tokens
 * (id and content). Formatting, the chat template and other settings do not change it.
 */
export function tokenizerFingerprint(tok: Tokenizer): string {
  const j = tok.json;
  const vocab = Object.entries(j.model.vocab).sort((a, b) => a[1] - b[1]);
  const merges = j.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  const added = (j.added_tokens ?? []).map((t) => [t.id, t.content]);
  const h = createHash('sha256').update(JSON.stringify({ vocab, merges, added }));
  return `sha256:${h.digest('hex').slice(0, 16)}`;
}

/** The fingerprint a model folder's config.json records, when it has one. */
export function recordedTokenizerFingerprint(modelDir: string): string | undefined {
  try {
    const v = (JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>)[FINGERPRINT_KEY];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined; // no or unreadable config.json: the model loader reports that
  }
}

/**
 * Throws a UserError when `tok` (from `tokDir`) cannot serve the model of `modelDir` (vocab_size
 * rows): more ids than rows, or not the tokenizer recorded in the model's config.json.
 */
export function checkTokenizerForModel(tok: Tokenizer, tokDir: string, vocabRows: number, modelDir: string): void {
  const fix = resolve(tokDir) === resolve(modelDir)
    ? `put the tokenizer files the model was trained with into ${modelDir}`
    : `use the model's own tokenizer${existsSync(join(modelDir, 'tokenizer.json')) ? ` (the one in ${modelDir})` : ''}`;
  if (tok.vocabSize > vocabRows) {
    throw new UserError(`the tokenizer in ${tokDir} has ${tok.vocabSize} tokens but the model in ${modelDir} only ${vocabRows} embedding rows; ${fix}`);
  }
  const recorded = recordedTokenizerFingerprint(modelDir);
  const actual = tokenizerFingerprint(tok);
  if (recorded !== undefined && recorded !== actual) {
    throw new UserError(`the tokenizer in ${tokDir} (${actual}) is not the one the model in ${modelDir} was trained with (${recorded}, config.json): its ids would mean other tokens; ${fix}`);
  }
}
