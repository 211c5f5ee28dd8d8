// The process the library runs in: Node's `process` and node:os. The page bundle puts
// process.browser.ts in its place (no environment variables, stderr to the console, one process).
import nodeProcess from 'node:process';
export { hostname, totalmem, freemem } from 'node:os';
export const process = nodeProcess;
