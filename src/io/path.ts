// Path functions for the library: node:path in Node; the page bundle puts path.browser.ts (POSIX
// paths on the in-memory volume, working folder '/') in its place.
export { basename, dirname, extname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
