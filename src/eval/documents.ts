// The documents of a perplexity run: a .txt file is one document (read whole); a .jsonl file holds
// one document per line in MiniMind's pretraining format ({"text": ...}).
import { readFileSync } from 'node:fs';
import { assertReadableFile, readJsonl } from '../data/jsonl.js';
import { firstLineNotUtf8, NOT_UTF8 } from '../data/lines.js';
import { UserError } from '../core/errors.js';

export async function readDocuments(path: string): Promise<string[]> {
  try {
    assertReadableFile(path);
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  if (!path.endsWith('.jsonl')) {
    const bytes = readFileSync(path);
    const bad = firstLineNotUtf8(bytes); // as readJsonl: refused, not read with U+FFFD
    if (bad > 0) throw new UserError(`${path}:${bad}: ${NOT_UTF8}`);
    const text = bytes.toString('utf8');
    return [text.charCodeAt(0) === 0xfeff ? text.slice(1) : text];
  }
  const docs: string[] = [];
  try {
    for await (const rec of readJsonl(path)) {
      const t = rec.value.text;
      if (typeof t !== 'string') throw new UserError(`${path}:${rec.line}: expected a "text" string field (MiniMind's pretraining format)`);
      docs.push(t);
    }
  } catch (e) {
    // readJsonl names the file and line of a malformed line.
    throw e instanceof UserError ? e : new UserError((e as Error).message);
  }
  if (docs.length === 0) throw new UserError(`${path}: no documents`);
  return docs;
}
