// Chat templates: renders a tokenizer_config.json `chat_template` (jinja) the way transformers'
// apply_chat_template(tokenize=False) does, using @huggingface/jinja (trim_blocks and lstrip_blocks on,
// like transformers). Parsed templates are cached because a dataset renders thousands of samples.
// Renders run within template-limits.ts's bounds: a template comes from a file anyone may hand us.
import { Template } from '@huggingface/jinja';
import { UserError } from '../core/errors.js';
import { TemplateLimitError, renderWithinLimits } from './template-limits.js';

/** One chat turn; MiniMind-3 also uses reasoning_content, tool_calls and tool messages. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | string;
  content: string;
  reasoning_content?: string;
  tool_calls?: unknown[];
  [key: string]: unknown;
}

export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean;
  tools?: unknown[];
  /** minimind-3: end the generation prompt with an open '<think>\n' (passed as `open_thinking`). */
  openThinking?: boolean;
  /** minimind2 (2510 template): false adds an empty think block (passed as `enable_thinking`). */
  enableThinking?: boolean;
}

const cache = new Map<string, Template>();

export function renderChatTemplate(
  template: string,
  messages: ChatMessage[],
  opts: ChatTemplateOptions,
  specialTokens: Record<string, unknown> = {},
  where = 'this tokenizer',
): string {
  let t = cache.get(template);
  if (t === undefined) {
    try {
      t = new Template(template);
    } catch (e) {
      throw new UserError(`the chat template (tokenizer_config.json chat_template) does not parse: ${(e as Error).message}`);
    }
    cache.set(template, t);
  }
  // Keys are only set when given: templates test `open_thinking is defined`.
  const ctx: Record<string, unknown> = { ...specialTokens, messages, add_generation_prompt: opts.addGenerationPrompt ?? false };
  if (opts.tools !== undefined) ctx.tools = opts.tools;
  if (opts.openThinking !== undefined) ctx.open_thinking = opts.openThinking;
  if (opts.enableThinking !== undefined) ctx.enable_thinking = opts.enableThinking;
  try {
    return renderWithinLimits(t, ctx);
  } catch (e) {
    if (e instanceof TemplateLimitError || e instanceof RangeError) {
      // RangeError: V8's own limits (string length, call stack) reached before ours.
      throw new UserError(`chat template of ${where}: ${e.message}; fix chat_template in its tokenizer_config.json`);
    }
    // raise_exception('...') in a template (transformers' way to refuse, e.g., a system message)
    // ends here with the template's own message: it is about the caller's messages, not a bug.
    throw new UserError(`the chat template refused these messages: ${(e as Error).message}`);
  }
}
