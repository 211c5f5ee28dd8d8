// A page maps no files: TokenStore reads them into memory (mapped-file.ts is the Node side).
export function mapFile(_path: string): ArrayBuffer | null {
  return null;
}
