// SHA-256 for cache keys: node:crypto in Node, hash.browser.ts (plain TypeScript) in the page bundle.
export { createHash } from 'node:crypto';
