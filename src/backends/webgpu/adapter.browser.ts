// The adapter question in a page: no probe in a child process; the page's worker asks navigator.gpu.
export { describeAdapter, type AdapterInfo } from './describe.js';
import type { AdapterInfo } from './describe.js';

export const probeAdapter = (): AdapterInfo => ({ description: "the page's navigator.gpu", software: false });
