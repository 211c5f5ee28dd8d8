// Every differentiable op, in one namespace: `import * as ops from '../ops/index.js'`.
export * from './basic.js';
export * from './matmul.js';
export * from './shape.js';
export * from './nn.js';
export * from './moe.js';
