// UTF-8 validation of bytes for the data readers: node:buffer's isUtf8 (simdutf) in Node,
// utf8.browser.ts in the page bundle.
export { isUtf8 } from 'node:buffer';
