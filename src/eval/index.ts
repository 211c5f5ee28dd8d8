// Evaluation: multiple-choice benchmarks in C-Eval / CMMLU layout (MiniMind v1's letter method and
// lm-eval's log-likelihood), perplexity and bits per byte.
export { loadMcSplit, findSplitFiles, readSubjectFile, LETTERS, type Letter, type McFormat, type McQuestion, type McSplit, type LoadMcOptions, type SubjectInfo } from './mc-data.js';
export { v1Messages, v1UserPrompt, lmEvalContext, lmEvalDescription, lmEvalDocText, V1_SYSTEM } from './prompts.js';
export { evaluateMultipleChoice, encodePair, type McMethod, type McEvalOptions, type McResult } from './multiple-choice.js';
export { mcSummary, formatMcSummary, mcResultRecord, type McSummary, type Accuracy } from './mc-report.js';
export { forEachLogits, type LogitsRow, type BatchLogitsOptions } from './batch-logits.js';
export { evaluatePerplexity, perplexityFigures, slidingWindows, type PerplexityOptions, type PerplexityResult } from './perplexity.js';
export { readDocuments } from './documents.js';
