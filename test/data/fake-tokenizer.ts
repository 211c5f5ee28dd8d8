// A tiny character-level tokenizer for data tests: ids 0..2 are specials, every other character
// is 3 + its code point, so expected ids and masks can be written by hand. The chat template is
// ChatML (minimind2/3 style) or v1's `<s>user\n…</s>\n<s>assistant\n` by choice.
import { ChatMessage, ChatTemplateOptions, TokenizerLike } from '../../src/data/tokenizer-like.js';

export class FakeTokenizer implements TokenizerLike {
  readonly bosTokenId = 1;
  readonly eosTokenId = 2;
  readonly padTokenId = 0;
  readonly specials: string[];
  encodeCalls = 0;
  constructor(readonly style: 'chatml' | 'v1' = 'chatml') {
    this.specials = style === 'chatml' ? ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] : ['<unk>', '<s>', '</s>'];
  }
  get bosToken(): string {
    return this.specials[1];
  }
  get eosToken(): string {
    return this.specials[2];
  }
  encode(text: string): number[] {
    this.encodeCalls++;
    const out: number[] = [];
    let i = 0;
    outer: while (i < text.length) {
      for (let s = 0; s < this.specials.length; s++) {
        if (text.startsWith(this.specials[s], i)) {
          out.push(s);
          i += this.specials[s].length;
          continue outer;
        }
      }
      const cp = text.codePointAt(i)!;
      out.push(3 + cp);
      i += cp > 0xffff ? 2 : 1;
    }
    return out;
  }
  decode(ids: number[]): string {
    return ids.map((id) => (id < 3 ? this.specials[id] : String.fromCodePoint(id - 3))).join('');
  }
  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions = {}): string {
    const [b, e] = [this.specials[1], this.specials[2]];
    let out = '';
    messages.forEach((m, k) => {
      if (this.style === 'v1') {
        if (k === 0 && m.role === 'system') out += m.content;
        else if (m.role === 'user') out += `${b}user\n${m.content}${e}\n${b}assistant\n`;
        else if (m.role === 'assistant') out += `${m.content}${e}\n`;
      } else out += `${b}${m.role}\n${m.content}${e}\n`;
    });
    if (this.style === 'chatml' && options.addGenerationPrompt) out += `${b}assistant\n`;
    return out;
  }
}

/** The ids the fake tokenizer gives `text` (without counting the call). */
export function ids(text: string, style: 'chatml' | 'v1' = 'chatml'): number[] {
  return new FakeTokenizer(style).encode(text);
}
