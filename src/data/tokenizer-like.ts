// The few tokenizer features the data pipeline needs, as an interface. The real Tokenizer in
// src/tokenizer satisfies it; tests use a tiny fake so loss masks can be checked by hand.
export interface ChatMessage {
  role: string;
  content: string;
  reasoning_content?: string;
  tool_calls?: unknown;
  tools?: unknown;
  [key: string]: unknown;
}

export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean;
  tools?: unknown[];
  openThinking?: boolean;
}

export interface TokenizerLike {
  /** Text → ids. Special-token strings in the text ('<|im_start|>') become their single ids; no BOS/EOS added. */
  encode(text: string): number[];
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  /** Renders messages with the tokenizer's chat template (tokenizer_config.json's chat_template). */
  applyChatTemplate(messages: ChatMessage[], options?: ChatTemplateOptions): string;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  /** Optional: the strings of the special tokens, e.g. '<|im_start|>' or '<s>'. */
  readonly bosToken?: string;
  readonly eosToken?: string;
}

/** The string of a special token: the explicit field if the tokenizer has one, else decode([id]). */
export function specialTokenString(tok: TokenizerLike, which: 'bos' | 'eos'): string {
  const explicit = which === 'bos' ? tok.bosToken : tok.eosToken;
  if (typeof explicit === 'string' && explicit !== '') return explicit;
  const id = which === 'bos' ? tok.bosTokenId : tok.eosTokenId;
  const s = tok.decode([id], { skipSpecialTokens: false });
  if (!s) throw new Error(`tokenizer: cannot find the string of the ${which} token (id ${id})`);
  return s;
}

/** What src/tokenizer's Tokenizer offers: the special ids may be absent (v1 has no pad token). */
export interface TokenizerSource {
  encode(text: string): number[];
  decode(ids: number[], options?: { skipSpecialTokens?: boolean }): string;
  applyChatTemplate(messages: ChatMessage[], options?: ChatTemplateOptions): string;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
  idToToken?(id: number): string | undefined;
}

/**
 * Adapts a tokenizer for the data pipeline: bos and eos must exist (clear error otherwise); pad
 * defaults to 0, as v1's code pads with 0 (pad positions are never targets anyway).
 */
export function toDataTokenizer(tok: TokenizerSource, where = 'tokenizer'): TokenizerLike {
  if (tok.bosTokenId === undefined || tok.eosTokenId === undefined) throw new Error(`${where}: the tokenizer has no bos_token/eos_token in tokenizer_config.json`);
  const bos = tok.bosTokenId;
  const eos = tok.eosTokenId;
  return {
    encode: (t) => tok.encode(t),
    decode: (ids, o) => tok.decode(ids, o),
    applyChatTemplate: (m, o) => tok.applyChatTemplate(m, o),
    bosTokenId: bos,
    eosTokenId: eos,
    padTokenId: tok.padTokenId ?? 0,
    bosToken: tok.idToToken?.(bos),
    eosToken: tok.idToToken?.(eos),
  };
}
