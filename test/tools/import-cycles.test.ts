// No import cycles in src/: every module can be read (and bundled, and initialised) after the
// modules it imports. Static imports and re-exports count, `import type` does not (it is erased).
// A cycle is reported as the chain of files that closes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** The src files `file` imports at run time (relative specifiers; `import type` / `export type` left out). */
export function runtimeImports(file: string, text: string): string[] {
  const out: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'(\.[^']+)'/gm;
  for (const m of text.matchAll(re)) {
    if (m[2]) continue; // import type / export type
    // `import { type A, type B } from` is erased too
    const names = m[3].replace(/^\{|\}$/g, '').split(',').map((s) => s.trim()).filter(Boolean);
    if (m[3].startsWith('{') && names.length > 0 && names.every((n) => n.startsWith('type '))) continue;
    out.push(resolve(dirname(file), m[4].replace(/\.js$/, '.ts')));
  }
  for (const m of text.matchAll(/^\s*import\s+'(\.[^']+)'/gm)) out.push(resolve(dirname(file), m[1].replace(/\.js$/, '.ts')));
  return out;
}

/** Every elementary cycle's first occurrence found by a depth-first walk, as file chains. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    path.push(f);
    for (const g of graph.get(f) ?? []) {
      if (!graph.has(g)) continue;
      if (state.get(g) === 'open') cycles.push([...path.slice(path.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    path.pop();
    state.set(f, 'done');
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return cycles;
}

test('findCycles finds a cycle and runtimeImports skips type-only imports', () => {
  const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
  assert.deepEqual(findCycles(g), [['a', 'b', 'c', 'a']]);
  const imports = runtimeImports('/x/f.ts', "import type { A } from './a.js';\nimport { type B } from './b.js';\nimport { C, type D } from './c.js';\nexport { E } from './e.js';\n");
  assert.deepEqual(imports, ['/x/c.ts', '/x/e.ts']);
});

test('src has no import cycles', () => {
  const files = sources('src');
  const graph = new Map(files.map((f) => [resolve(f), runtimeImports(resolve(f), readFileSync(f, 'utf8'))]));
  const cycles = findCycles(graph).map((c) => c.map((f) => relative(resolve('src'), f)).join(' -> '));
  assert.deepEqual(cycles, []);
});
