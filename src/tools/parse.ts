// Tool calls in model output, as MiniMind parses them: every <tool_call>...</tool_call> block
// whose body is a JSON object {"name": ..., "arguments": ...}; a block that does not parse is
// skipped (the model's mistake is scored by the reward, not raised). Arguments given as a JSON
// string are decoded, as train_agent.py does.
export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

const BLOCK = /<tool_call>([\s\S]*?)<\/tool_call>/g;

/** The raw JSON objects inside the tool-call blocks (MiniMind parse_tool_calls). */
export function parseToolCallBlocks(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const m of text.matchAll(BLOCK)) {
    try {
      const v = JSON.parse(m[1].trim());
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(v as Record<string, unknown>);
    } catch {
      /* not JSON: not a call */
    }
  }
  return out;
}

/** Normalises one parsed block: a string name and an arguments object ({} when missing or unreadable). */
export function toToolCall(block: Record<string, unknown>): ToolCall {
  const name = typeof block.name === 'string' ? block.name : '';
  let args = block.arguments;
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args);
    } catch {
      args = {};
    }
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) args = {};
  return { name, arguments: args as Record<string, unknown> };
}

export function parseToolCalls(text: string): ToolCall[] {
  return parseToolCallBlocks(text).map(toToolCall);
}

/** |#<tool_call> − #</tool_call>|: MiniMind takes 0.5 reward per unbalanced tag. */
export function unbalancedToolTags(text: string): number {
  return Math.abs(count(text, '<tool_call>') - count(text, '</tool_call>'));
}

function count(text: string, sub: string): number {
  let n = 0;
  for (let i = text.indexOf(sub); i !== -1; i = text.indexOf(sub, i + sub.length)) n++;
  return n;
}
