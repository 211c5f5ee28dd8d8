// The two prompt styles of MiniMind's benchmark numbers.
//
// letter (MiniMind v1, eval_ceval.py@a87f628): a system message "开始回答问题" and the user message
//   `{question}。选择 A: {A}, B: {B}, C: {C}, D: {D}`, rendered with the chat template and the
//   generation prompt; the answer is read from the logits of the next token.
// loglik (lm-evaluation-harness's ceval-valid / cmmlu tasks, which MiniMind2 and minimind-3 report):
//   description + `{question.strip()}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\n答案：`, and each choice
//   " A" ... " D" scored as a continuation.
import type { ChatMessage } from '../tokenizer/chat.js';
import { LETTERS, type McFormat, type McQuestion } from './mc-data.js';

export const V1_SYSTEM = '开始回答问题';

/** v1's user message for one question. */
export function v1UserPrompt(q: McQuestion): string {
  const [A, B, C, D] = q.options;
  return `${q.question}。选择 A: ${A}, B: ${B}, C: ${C}, D: ${D}`;
}

/**
 * v1's messages. v1 had no few-shot mode; shots are given as earlier user / assistant turns whose
 * answer is the letter alone, the form the model is then asked to continue.
 */
export function v1Messages(q: McQuestion, shots: readonly McQuestion[] = []): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: 'system', content: V1_SYSTEM }];
  for (const s of shots) {
    messages.push({ role: 'user', content: v1UserPrompt(s) });
    messages.push({ role: 'assistant', content: s.answer ?? '' });
  }
  messages.push({ role: 'user', content: v1UserPrompt(q) });
  return messages;
}

/** lm-eval's doc_to_text for ceval-valid and cmmlu (the same template; Python's str.strip()). */
export function lmEvalDocText(q: McQuestion): string {
  const [A, B, C, D] = q.options;
  return `${pyStrip(q.question)}\nA. ${A}\nB. ${B}\nC. ${C}\nD. ${D}\n答案：`;
}

/** lm-eval's task description (ceval/_generate_configs.py, cmmlu/_generate_configs.py). */
export function lmEvalDescription(format: McFormat, subjectZh: string | undefined): string {
  if (subjectZh === undefined) return '';
  return format === 'ceval' ? `以下是中国关于${subjectZh}的单项选择题，请选出其中的正确答案。\n\n` : `以下是关于${subjectZh}的单项选择题，请直接给出正确答案的选项。\n\n`;
}

/**
 * The context of one lm-eval multiple-choice request: description, then the shots each as
 * doc_to_text + " " + answer, joined and followed by the fewshot delimiter "\n\n", then the question.
 */
export function lmEvalContext(q: McQuestion, shots: readonly McQuestion[], description: string): string {
  const labelled = shots.map((s) => `${lmEvalDocText(s)} ${s.answer ?? ''}`);
  return description + labelled.map((s) => s + '\n\n').join('') + lmEvalDocText(q);
}

/** The choices lm-eval scores: target_delimiter " " + the letter. */
export const LMEVAL_CONTINUATIONS = LETTERS.map((l) => ` ${l}`);

// Python's str.isspace() characters (JavaScript's \s differs: it has U+FEFF and lacks U+001C-U+001F, U+0085).
const PY_WS = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPACE_RUNS = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'g');

/** Python's str.strip() with no argument. */
export function pyStrip(s: string): string {
  return s.replace(PY_SPACE_RUNS, '');
}
