// Line reading for the data readers: node:readline in Node, readline.browser.ts in the page bundle.
export { createInterface } from 'node:readline';
