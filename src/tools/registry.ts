// A tool registry: each tool has an OpenAI-style schema (what the chat template lists in the
// system prompt), a function that runs it, and an argument check (what agent RL counts as a
// "valid" call). run() never throws: an unknown tool, a failure or a timeout becomes an
// {"error": ...} result, and the result text is cut to 2,048 characters as MiniMind does, so a
// huge result cannot flood the context.
import { pyJsonDumps } from './pyjson.js';
import type { ToolCall } from './parse.js';

export interface ToolSchema {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

export interface Tool {
  schema: ToolSchema;
  /** May be async; a sync tool must bound its own work (a timer cannot interrupt synchronous code). */
  run(args: Record<string, unknown>): unknown | Promise<unknown>;
  /** MiniMind's CHECK_ARGS: are the required arguments present? */
  checkArgs(args: Record<string, unknown>): boolean;
}

export interface ToolResult {
  /** The text the model reads back inside <tool_response>. */
  content: string;
  ok: boolean;
}

export const MAX_RESULT_CHARS = 2048;
export const DEFAULT_TIMEOUT_MS = 1000;

export class ToolRegistry {
  private readonly tools = new Map<string, Tool>();

  constructor(tools: Tool[] = [], readonly timeoutMs = DEFAULT_TIMEOUT_MS) {
    for (const t of tools) this.register(t);
  }

  register(tool: Tool): this {
    this.tools.set(tool.schema.function.name, tool);
    return this;
  }

  get names(): string[] {
    return [...this.tools.keys()];
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  /** Schemas for the chat template's `tools`; `names` picks a subset in that order. */
  schemas(names?: string[]): ToolSchema[] {
    if (!names) return [...this.tools.values()].map((t) => t.schema);
    return names.map((n) => {
      const t = this.tools.get(n);
      if (!t) throw new Error(`unknown tool '${n}' (known: ${this.names.join(', ')})`);
      return t.schema;
    });
  }

  /** A call is valid when the tool is among `offered` (default: all) and its arguments pass the check. */
  isValidCall(call: ToolCall, offered?: Set<string>): boolean {
    const t = this.tools.get(call.name);
    if (!t || (offered && !offered.has(call.name))) return false;
    try {
      return !!t.checkArgs(call.arguments);
    } catch {
      return false;
    }
  }

  async run(call: ToolCall): Promise<ToolResult> {
    const tool = this.tools.get(call.name);
    if (!tool) return { content: '{"error": "tool not found"}', ok: false };
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
      });
      const value = await Promise.race([Promise.resolve().then(() => tool.run(call.arguments)), timeout]);
      return { content: cut(pyJsonDumps(value)), ok: true };
    } catch (e) {
      return { content: cut(pyJsonDumps({ error: `${call.name}: ${(e as Error).message}` })), ok: false };
    } finally {
      clearTimeout(timer);
    }
  }
}

function cut(s: string): string {
  // Python slices code points; cut on a code-point boundary so no half surrogate pair remains.
  const cps = [...s];
  return cps.length > MAX_RESULT_CHARS ? cps.slice(0, MAX_RESULT_CHARS).join('') : s;
}
