// Tool use: the registry and MiniMind's mock tools, <tool_call> parsing, and the safe evaluator.
export * from './expression.js';
export * from './pyjson.js';
export * from './parse.js';
export * from './registry.js';
export * from './mock.js';
