// Every WebGPU kernel by its Backend name, each taking the runtime and then the Backend method's
// arguments with buffers as ids.
import * as elementwise from './elementwise.js';
import { matmul } from './matmul.js';
import * as rows from './rows.js';
import * as shape from './shape.js';
import * as norm from './norm.js';
import * as softmax from './softmax.js';
import { attentionForward, attentionBackward } from './attention.js';
import type { Runtime } from '../runtime.js';

const { rowGrid: _rowGrid, ...rowKernels } = rows;

export const kernels: Record<string, (rt: Runtime, ...args: any[]) => void> = {
  ...elementwise,
  matmul,
  ...rowKernels,
  ...shape,
  ...norm,
  ...softmax,
  attentionForward,
  attentionBackward,
};
