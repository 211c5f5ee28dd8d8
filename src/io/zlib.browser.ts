// Inflate for zip archives in the page (fflate); CRC-32 comes from zip.ts's own table.
import { inflateSync } from 'fflate';
export const inflateRawSync = (data: Uint8Array, options: { maxOutputLength: number }): Uint8Array => {
  const out = inflateSync(data, { out: new Uint8Array(options.maxOutputLength) });
  return out;
};
export const nativeCrc32: ((data: Uint8Array) => number) | undefined = undefined;
