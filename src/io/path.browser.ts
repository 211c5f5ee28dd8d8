// POSIX path functions for the page (the in-memory volume's working folder is '/'): what node:path
// does for the names the library uses.
export const sep = '/';

export function normalize(p: string): string {
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
    } else out.push(part);
  }
  const s = (abs ? '/' : '') + out.join('/');
  return s || (abs ? '/' : '.');
}

export const isAbsolute = (p: string): boolean => p.startsWith('/');
export const join = (...parts: string[]): string => normalize(parts.filter((s) => s !== '').join('/') || '.');

export function resolve(...parts: string[]): string {
  let p = '';
  for (const part of parts) p = part.startsWith('/') ? part : p ? `${p}/${part}` : part;
  return normalize(p.startsWith('/') ? p : `/${p}`);
}

export function dirname(p: string): string {
  const n = p.length > 1 ? p.replace(/\/+$/, '') : p;
  const i = n.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : n.slice(0, i);
}

export function basename(p: string, ext?: string): string {
  const b = p.replace(/\/+$/, '').split('/').pop() ?? '';
  return ext && b.endsWith(ext) && b !== ext ? b.slice(0, -ext.length) : b;
}

export function extname(p: string): string {
  const b = basename(p);
  const i = b.lastIndexOf('.');
  return i <= 0 ? '' : b.slice(i);
}

export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
}
