// Splits a chat model's streamed text into what the OpenAI API returns separately: the reasoning
// (between <think> and </think>, minimind-3), the answer, and tool calls (each
// <tool_call>{"name": ..., "arguments": {...}}</tool_call> block, the minimind-3 / Qwen format).
// It works on text pieces as they stream, holding back only a tail that might still grow into a
// tag, so the server can forward deltas at once and end with the same split a whole-text parse
// gives. A <tool_call> block whose JSON does not parse into a name is passed on as plain text.
//
//   const p = new ChatOutputParser({ thinking: true });   // the prompt ended with an open '<think>\n'
//   p.push('I should add.</think>\n\nIt is 4')  -> [{ reasoning: 'I should add.' }, { content: 'It is 4' }]
//   p.end()                                      -> anything still held back

/** A tool call as OpenAI returns it (arguments is a JSON string). */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** One delta of the split output: exactly one field is set. */
export type OutputPart = { reasoning: string } | { content: string } | { toolCall: ToolCall };

const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';
const CALL_OPEN = '<tool_call>';
const CALL_CLOSE = '</tool_call>';

type Mode = 'reasoning' | 'content' | 'call';

export class ChatOutputParser {
  private mode: Mode;
  private held = '';
  private call = '';
  /** Nothing but whitespace shown as content yet (a leading <think> is still honoured; newlines after </think> are dropped). */
  private contentStarted = false;
  private calls = 0;
  private reasoningStarted = false;

  constructor(private readonly opts: { thinking: boolean; toolCalls: boolean; callId: (i: number) => string }) {
    this.mode = opts.thinking ? 'reasoning' : 'content';
  }

  /** Number of tool calls parsed so far. */
  get toolCallCount(): number {
    return this.calls;
  }

  push(piece: string): OutputPart[] {
    const out: OutputPart[] = [];
    let buf = this.held + piece;
    this.held = '';
    while (buf.length > 0) {
      const tags = this.tagsFor();
      const hit = firstTag(buf, tags);
      if (hit && (hit.tag === THINK_OPEN || hit.tag === THINK_CLOSE) && this.mode === 'content' && /\S/.test(buf.slice(0, hit.at))) {
        // A think tag after the answer has begun is text: show what precedes it, then go on
        // (the answer has started now, so the tag is no longer looked for).
        this.emit(out, buf.slice(0, hit.at));
        buf = buf.slice(hit.at);
        continue;
      }
      if (hit) {
        // The template puts a '\n' between content and a tool call: a separator, not content.
        const before = buf.slice(0, hit.at);
        this.emit(out, hit.tag === CALL_OPEN ? before.replace(/\n+$/, '') : before, true);
        buf = buf.slice(hit.at + hit.tag.length);
        this.onTag(hit.tag, out);
        continue;
      }
      let keep = partialTail(buf, tags);
      // Newlines before a possible </think> or <tool_call> are framing, not text; hold them.
      if (this.mode === 'reasoning' || (this.mode === 'content' && this.opts.toolCalls)) while (keep < buf.length && buf[buf.length - keep - 1] === '\n') keep++;
      this.emit(out, buf.slice(0, buf.length - keep));
      this.held = buf.slice(buf.length - keep);
      break;
    }
    return merge(out);
  }

  /** The generation ended: releases held text; an unclosed <tool_call> is returned as text. */
  end(): OutputPart[] {
    const out: OutputPart[] = [];
    const rest = this.held;
    this.held = '';
    if (this.mode === 'call') {
      this.mode = 'content';
      this.emit(out, CALL_OPEN + this.call + rest);
      this.call = '';
    } else this.emit(out, rest, true);
    return merge(out);
  }

  // The tags that mean something in the current mode.
  private tagsFor(): string[] {
    if (this.mode === 'reasoning') return [THINK_CLOSE];
    if (this.mode === 'call') return [CALL_CLOSE];
    const tags = this.opts.toolCalls ? [CALL_OPEN] : [];
    if (!this.contentStarted) tags.push(THINK_OPEN, THINK_CLOSE);
    return tags;
  }

  private onTag(tag: string, out: OutputPart[]): void {
    if (tag === THINK_OPEN) this.mode = 'reasoning';
    else if (tag === THINK_CLOSE) this.mode = 'content'; // a stray leading </think> closes nothing visible
    else if (tag === CALL_OPEN) {
      this.mode = 'call';
      this.call = '';
    } else if (tag === CALL_CLOSE) {
      this.mode = 'content';
      const parsed = parseToolCall(this.call);
      if (parsed) out.push({ toolCall: { id: this.opts.callId(this.calls++), type: 'function', function: parsed } });
      else this.emitContent(out, CALL_OPEN + this.call + CALL_CLOSE);
      this.call = '';
    }
  }

  // final: nothing follows text in this mode (a tag or the end comes next).
  private emit(out: OutputPart[], text: string, final = false): void {
    if (this.mode === 'reasoning') {
      // MiniMind's template writes '<think>\n' ... '\n</think>\n\n': the newlines frame, they are not reasoning.
      if (!this.reasoningStarted) text = text.replace(/^\n+/, '');
      if (final) text = text.replace(/\n+$/, '');
      if (text === '') return;
      this.reasoningStarted = true;
      out.push({ reasoning: text });
    } else if (text === '') return;
    else if (this.mode === 'call') this.call += text;
    else this.emitContent(out, text);
  }

  private emitContent(out: OutputPart[], text: string): void {
    if (!this.contentStarted) {
      text = text.replace(/^\n+/, ''); // the '\n\n' after </think> (the template's lstrip('\n'))
      if (text === '') return;
      this.contentStarted = true;
    }
    out.push({ content: text });
  }
}

/** Parses the inside of a <tool_call> block: {"name": string, "arguments": object | string}. */
export function parseToolCall(body: string): { name: string; arguments: string } | null {
  let v: unknown;
  try {
    v = JSON.parse(body.trim());
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const { name, arguments: args } = v as { name?: unknown; arguments?: unknown };
  if (typeof name !== 'string' || name === '') return null;
  if (args === undefined) return { name, arguments: '{}' };
  return { name, arguments: typeof args === 'string' ? args : JSON.stringify(args) };
}

function firstTag(buf: string, tags: string[]): { at: number; tag: string } | null {
  let best: { at: number; tag: string } | null = null;
  for (const tag of tags) {
    const at = buf.indexOf(tag);
    if (at >= 0 && (!best || at < best.at)) best = { at, tag };
  }
  return best;
}

// Length of the longest suffix of buf that is a proper prefix of one of the tags.
function partialTail(buf: string, tags: string[]): number {
  let best = 0;
  for (const t of tags) {
    for (let n = Math.min(t.length - 1, buf.length); n > best; n--) {
      if (buf.endsWith(t.slice(0, n))) {
        best = n;
        break;
      }
    }
  }
  return best;
}

// Joins neighbouring text parts of the same kind, so one push gives at most one delta per kind run.
function merge(parts: OutputPart[]): OutputPart[] {
  const out: OutputPart[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (last && 'reasoning' in last && 'reasoning' in p) last.reasoning += p.reasoning;
    else if (last && 'content' in last && 'content' in p) last.content += p.content;
    else out.push({ ...p });
  }
  return out;
}
