// The engine core in one import: tensors, autograd, scopes and the backend choice.
export * from './dtype.js';
export * from './tensor.js';
export * from './autograd.js';
export * from './scope.js';
export * from './device.js';
