// `minimind data convert`: any supported file and record format -> one of MiniMind's jsonl schemas.
//   pretrain  {"text": ...}
//   sft       {"conversations": [{"role", "content"}, ...]}         (dataset/lm_dataset.py SFTDataset)
//   dpo       {"chosen": [...messages], "rejected": [...messages]}   (DPODataset)
//   rlaif     {"conversations": [...prompt, {"role": "assistant", "content": "无"}]}
//             (RLAIFDataset reads conversations[:-1] as the prompt; MiniMind's file puts "无" last)
// A row that does not fit the target is counted under its reason with its file:line and skipped.
import { Rejects } from './rejects.js';
import { ByteProgress, readInputs } from './records.js';
import { chatOf, kindOf, Message, preferenceOf, RecordKind } from './schema.js';
import { withWriters } from './writer.js';

export type TargetSchema = 'pretrain' | 'sft' | 'dpo' | 'rlaif';
export const TARGETS: TargetSchema[] = ['pretrain', 'sft', 'dpo', 'rlaif'];

export interface ConvertOptions {
  inputs: string[];
  output: string;
  to: TargetSchema;
  /** pretrain: the field(s) that hold the text, comma-separated (default: text, else content/document/body); lists of strings are joined by lines. */
  textField?: string;
  onProgress?: ByteProgress;
}

export interface ConvertSummary {
  rows: number;
  written: number;
  /** How many rows of each source format were seen. */
  formats: Partial<Record<RecordKind, number>>;
  rejects: Rejects;
}

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

function checkChat(msgs: Message[]): void {
  if (msgs.length === 0) throw new Error('empty conversation');
  for (const m of msgs) if (!ROLES.has(m.role)) throw new Error(`unknown role '${m.role}' (expected system, user, assistant or tool)`);
  if (!msgs.some((m) => m.role === 'user')) throw new Error('no user turn');
}

/** One converted row, or an Error saying why the record does not fit. */
export function convertRecord(v: Record<string, unknown>, to: TargetSchema, textField?: string): Record<string, unknown> {
  const kind = kindOf(v);
  switch (to) {
    case 'pretrain': {
      const fields = textField?.split(',') ?? [kind === 'text' ? 'text' : ['content', 'document', 'body', 'article'].find((k) => typeof v[k] === 'string')];
      if (fields[0] === undefined) throw new Error(kind === 'unknown' ? 'no text field' : `a ${kind} row has no plain text (convert it --to sft)`);
      // several fields (title,author,paragraphs) or a list of lines become lines of one text
      const parts = fields.map((f) => {
        const x = v[f!];
        if (typeof x === 'string') return x;
        if (Array.isArray(x) && x.every((y) => typeof y === 'string')) return x.join('\n');
        throw new Error(x === undefined ? `no field '${f}'` : `'${f}' is not a string or a list of strings`);
      });
      const text = parts.filter((t) => t !== '').join('\n');
      if (text.trim() === '') throw new Error('empty text');
      return { text };
    }
    case 'sft': {
      if (kind === 'dpo') throw new Error('a preference row (chosen/rejected): convert it --to dpo');
      const msgs = chatOf(v, kind);
      checkChat(msgs);
      const last = msgs[msgs.length - 1];
      if (last.role !== 'assistant' || last.content.trim() === '' && last.tool_calls === undefined) throw new Error('no final assistant answer');
      return { conversations: msgs };
    }
    case 'dpo': {
      if (kind !== 'dpo') throw new Error(`a ${kind} row has no chosen/rejected pair`);
      const p = preferenceOf(v);
      checkChat(p.chosen);
      checkChat(p.rejected);
      if (p.chosen[p.chosen.length - 1].role !== 'assistant' || p.rejected[p.rejected.length - 1].role !== 'assistant') throw new Error('chosen and rejected must end with an assistant answer');
      return { chosen: p.chosen, rejected: p.rejected };
    }
    case 'rlaif': {
      let msgs = kind === 'dpo' ? preferenceOf(v).chosen.slice(0, -1) : chatOf(v, kind);
      if (msgs[msgs.length - 1]?.role === 'assistant') msgs = msgs.slice(0, -1);
      checkChat(msgs);
      if (msgs[msgs.length - 1].role !== 'user') throw new Error('the prompt does not end with a user turn');
      return { conversations: [...msgs, { role: 'assistant', content: '无' }] };
    }
  }
}

export async function convert(o: ConvertOptions): Promise<ConvertSummary> {
  const rejects = new Rejects();
  const formats: Partial<Record<RecordKind, number>> = {};
  let rows = 0;
  const written = await withWriters([o.output], async ([out]) => {
    for await (const r of readInputs(o.inputs, rejects, o.onProgress)) {
      rows++;
      const kind = kindOf(r.value);
      formats[kind] = (formats[kind] ?? 0) + 1;
      try {
        out.write(convertRecord(r.value, o.to, o.textField));
      } catch (e) {
        rejects.add((e as Error).message, r.where);
      }
    }
    return out.rows;
  });
  return { rows, written, formats, rejects };
}
