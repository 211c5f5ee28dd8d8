// The corpus the thread-count tests share (data tokenize, the stages' cache): enough records for
// several batches of 256 on each of two workers, each made unique by its number, with unreadable
// lines and records the encoder refuses spread among them (and, for `truncated`, SFT conversations
// that truncation to a short max length empties).
import type { generateQuickstartData } from '../../src/train/quickstart-data.js';

export function threadCorpusLines(kind: 'pretrain' | 'sft', qs: ReturnType<typeof generateQuickstartData>, o: { truncated?: boolean } = {}): string[] {
  const lines: string[] = [];
  const n = kind === 'sft' ? qs.sftConversations.length : 2 * qs.pretrainTexts.length;
  for (let i = 0; i < n; i++) {
    if (kind === 'sft') {
      const [first, ...rest] = qs.sftConversations[i];
      lines.push(JSON.stringify({ conversations: [{ ...first, content: `${i}. ${first.content}` }, ...rest] }));
    } else lines.push(JSON.stringify({ text: `${i}. ${qs.pretrainTexts[i % qs.pretrainTexts.length]}` }));
    if (i % 97 === 5) lines.push('{broken');
    if (i % 131 === 7) lines.push(JSON.stringify(kind === 'sft' ? { conversations: 'not a list' } : { text: 42 }));
    if (o.truncated && kind === 'sft' && i % 151 === 9) lines.push(JSON.stringify({ conversations: [{ role: 'user', content: 'long '.repeat(200) }, { role: 'assistant', content: 'cut off' }] }));
  }
  return lines;
}
