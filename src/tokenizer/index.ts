// Public API of the tokenizer: load / train / encode / decode / chat templates (see tokenizer.ts,
// trainer.ts and chat.ts for the details).
export { Tokenizer, type TokenizerJson, type TokenizerConfig } from './tokenizer.js';
export type { ChatMessage, ChatTemplateOptions } from './chat.js';
export { trainTokenizer, type TrainTokenizerOptions } from './trainer.js';
export { trainBpe, WordCounter, type BpeResult } from './bpe-trainer.js';
export { CHAT_TEMPLATES } from './templates.js';
export { PRESETS, type PresetName } from './presets.js';
export { readCorpus } from './corpus.js';
