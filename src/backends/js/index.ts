// The js backend: every kernel in plain TypeScript. It is the specification the native and GPU
// backends are tested against, so each kernel favours clarity over speed.
import type { Backend } from '../backend.js';
import * as memory from './memory.js';
import * as elementwise from './elementwise.js';
import { matmul } from './matmul.js';
import * as rows from './rows.js';
import * as shape from './shape.js';
import { rmsnormForward, rmsnormBackward } from './norm.js';
import { ropeForward, ropeBackward } from './rope.js';
import { attentionForward, attentionBackward } from './attention.js';
import { attentionDecode } from './attention-decode.js';
import * as activation from './activation.js';
import { adamwStep } from './adamw.js';

export const jsBackend: Backend = {
  name: 'js',
  device: 'cpu',
  ...memory,
  ...elementwise,
  matmul,
  ...rows,
  ...shape,
  rmsnormForward,
  rmsnormBackward,
  ropeForward,
  ropeBackward,
  attentionForward,
  attentionBackward,
  attentionDecode,
  ...activation,
  adamwStep,
};
