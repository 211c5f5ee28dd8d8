// Inflate and CRC-32 for zip archives: node:zlib in Node, zlib.browser.ts (fflate) in the page bundle.
import * as zlib from 'node:zlib';
export const inflateRawSync = (data: Uint8Array, options: { maxOutputLength: number }): Uint8Array => zlib.inflateRawSync(data, options);
/** node:zlib's CRC-32 where this Node has one (>= 20.15). */
export const nativeCrc32: ((data: Uint8Array) => number) | undefined = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
