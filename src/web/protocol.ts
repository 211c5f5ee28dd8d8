// Messages between the page (app.ts) and its worker (worker.ts), which runs the library so the tab
// stays responsive while a model trains or answers.
import type { StepReport } from '../train/options.js';

export interface Sampling {
  temperature: number;
  topP: number;
  topK: number;
  repetitionPenalty: number;
  maxNewTokens: number;
  seed?: number;
}

export type { ChatMessage } from '../tokenizer/chat.js';
import type { ChatMessage } from '../tokenizer/chat.js';

/** The quickstart's settings the page offers (src/train/quickstart.ts). */
export interface TrainSettings {
  seed: number;
  small: boolean;
  pretrainEpochs?: number;
  sftEpochs?: number;
}

export type ToWorker =
  | { type: 'load'; files: { name: string; data: ArrayBuffer }[]; label: string }
  | { type: 'load-stored'; name: string }
  | { type: 'chat'; messages: ChatMessage[]; sampling: Sampling }
  | { type: 'stop' }
  | { type: 'train'; settings: TrainSettings }
  | { type: 'download'; name: string }
  | { type: 'stored' }
  | { type: 'delete-stored'; name: string };

export interface ModelInfo {
  label: string;
  parameters: number;
  hiddenSize: number;
  layers: number;
  vocabSize: number;
  contextLength: number;
  defaults: Sampling;
}

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'token'; text: string; id: number }
  | { type: 'done'; ids: number[]; reason: string; tokensPerS: number }
  | { type: 'log'; text: string }
  | { type: 'progress'; report: StepReport }
  | { type: 'trained'; name: string; seconds: number; heldOutAccuracy: number; interrupted: boolean }
  | { type: 'zip'; name: string; data: ArrayBuffer }
  | { type: 'stored'; names: string[] }
  | { type: 'error'; message: string };
