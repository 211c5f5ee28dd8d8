// Special-token presets of MiniMind's three tokenizer generations, and the tokenizer_config.json each
// ships with (bos/eos/pad/unk, model_max_length, chat template), so a trained tokenizer is a drop-in
// replacement: `trainTokenizer({ preset: 'chatml', ... })` gives minimind2's layout.
import { CHAT_TEMPLATES } from './templates.js';

export type PresetName = 'v1' | 'chatml' | 'minimind3';

export interface Preset {
  specialTokens: string[];
  /** Added tokens that match atomically but are not special (skipSpecialTokens keeps them). */
  nonSpecialTokens: string[];
  bosToken?: string;
  eosToken?: string;
  padToken?: string;
  unkToken?: string;
  modelMaxLength: number;
  chatTemplate: string;
  /** Extra tokenizer_config.json keys, in file order after the common ones. */
  extraConfig?: Record<string, unknown>;
}

const MINIMIND3_SPECIAL = [
  '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|object_ref_start|>', '<|object_ref_end|>', '<|box_start|>',
  '<|box_end|>', '<|quad_start|>', '<|quad_end|>', '<|vision_start|>', '<|vision_end|>', '<|vision_pad|>',
  '<|image_pad|>', '<|video_pad|>', '<|audio_start|>', '<|audio_end|>', '<|audio_pad|>', '<tts_pad>',
  '<tts_text_bos>', '<tts_text_eod>', '<tts_text_bos_single>',
];
const MINIMIND3_PLAIN = [
  '<tool_call>', '</tool_call>', '<tool_response>', '</tool_response>', '<think>', '</think>',
  ...Array.from({ length: 9 }, (_, i) => `<|buffer${i + 1}|>`),
];

export const PRESETS: Record<PresetName, Preset> = {
  // MiniMind v1 (train_tokenizer.py@a87f628): <unk> <s> </s>, no pad token (the code pads with 0).
  v1: {
    specialTokens: ['<unk>', '<s>', '</s>'], nonSpecialTokens: [],
    bosToken: '<s>', eosToken: '</s>', unkToken: '<unk>', modelMaxLength: 1e30, chatTemplate: CHAT_TEMPLATES.v1,
  },
  // minimind2: the ChatML trio, pad = unk = <|endoftext|>.
  chatml: {
    specialTokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'], nonSpecialTokens: [],
    bosToken: '<|im_start|>', eosToken: '<|im_end|>', padToken: '<|endoftext|>', unkToken: '<|endoftext|>',
    modelMaxLength: 32768, chatTemplate: CHAT_TEMPLATES.minimind2,
  },
  // minimind-3: 21 specials + 15 plain added tokens (tool/think tags and 9 buffers), ids 0..35.
  minimind3: {
    specialTokens: MINIMIND3_SPECIAL, nonSpecialTokens: MINIMIND3_PLAIN,
    bosToken: '<|im_start|>', eosToken: '<|im_end|>', padToken: '<|endoftext|>', unkToken: '<|endoftext|>',
    modelMaxLength: 131072, chatTemplate: CHAT_TEMPLATES.minimind3,
    extraConfig: {
      image_token: '<|image_pad|>', audio_token: '<|audio_pad|>', video_token: '<|video_pad|>',
      vision_bos_token: '<|vision_start|>', vision_eos_token: '<|vision_end|>',
      audio_bos_token: '<|audio_start|>', audio_eos_token: '<|audio_end|>',
    },
  },
};

export interface ConfigOptions {
  addedTokens: { id: number; content: string; special: boolean }[];
  bosToken?: string;
  eosToken?: string;
  padToken?: string;
  unkToken?: string;
  modelMaxLength: number;
  chatTemplate?: string;
  additionalSpecialTokens?: string[];
  extraConfig?: Record<string, unknown>;
}

/** tokenizer_config.json in the layout of MiniMind's files (PreTrainedTokenizerFast, no auto BOS/EOS). */
export function buildTokenizerConfig(o: ConfigOptions): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const t of o.addedTokens) {
    decoder[String(t.id)] = { content: t.content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: t.special };
  }
  const cfg: Record<string, unknown> = {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: o.additionalSpecialTokens ?? [],
    bos_token: o.bosToken ?? null,
    clean_up_tokenization_spaces: false,
    eos_token: o.eosToken ?? null,
    legacy: true,
    model_max_length: o.modelMaxLength,
    pad_token: o.padToken ?? null,
    sp_model_kwargs: {},
    spaces_between_special_tokens: false,
    tokenizer_class: 'PreTrainedTokenizerFast',
    unk_token: o.unkToken ?? null,
    ...(o.extraConfig ?? {}),
  };
  if (o.chatTemplate !== undefined) cfg.chat_template = o.chatTemplate;
  return cfg;
}
