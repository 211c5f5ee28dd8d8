// Builds the browser side with esbuild (run by `npm run prepare`, after tsc):
//   dist/web/minimind.js   the library as one ES module for pages (src/web/lib.ts)
//   dist/web/app/          the "Run here" / "Train here" page: index.html, style.css, app.js, worker.js,
//                          webgpu-worker.js (the WebGPU device thread)
// One rule makes the library run in a page: a module X.ts with a sibling X.browser.ts is replaced by
// it (src/io: files on an in-memory volume, POSIX paths, no process; src/backends/loaders: no
// native addons), and Node's Buffer comes from the `buffer` package. The build fails when any
// node: module is still in the import graph (with --strict; else it warns), so a Node-only import
// never reaches a page unseen.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');

const browserSiblings = {
  name: 'browser-siblings',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const ts = resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
      const sibling = ts.replace(/\.ts$/, '.browser.ts');
      if (ts.startsWith(join(root, 'src')) && !ts.endsWith('.browser.ts') && existsSync(sibling)) return { path: sibling };
      return undefined;
    });
    build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, external: true }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  metafile: true,
  legalComments: 'none',
  inject: [join(root, 'src', 'io', 'buffer.browser.ts')],
  plugins: [browserSiblings],
  logLevel: 'warning',
};

// --strict (test/web/bundle.test.ts): a leak fails the build. Without it (npm install) the leak is
// reported and the build goes on, so one stray import cannot stop a whole install.
const strict = process.argv.includes('--strict');
let leaked = false;
function refuseNode(result, what) {
  const leaks = Object.entries(result.metafile.inputs).flatMap(([file, info]) => info.imports.filter((i) => i.path.startsWith('node:')).map((i) => `${file} imports ${i.path}`));
  if (!leaks.length) return;
  leaked = true;
  const message = `${what}: Node-only modules in the page's import graph (give them a .browser.ts sibling or move the access into src/io):\n  ${leaks.join('\n  ')}`;
  if (strict) throw new Error(message);
  console.error(`web: warning: ${message}`);
}

mkdirSync(join(out, 'app'), { recursive: true });
const lib = await esbuild.build({ ...common, entryPoints: { minimind: join(root, 'src', 'web', 'lib.ts') }, outdir: out });
refuseNode(lib, 'dist/web/minimind.js');
const app = await esbuild.build({ ...common, entryPoints: { app: join(root, 'src', 'web', 'app.ts'), worker: join(root, 'src', 'web', 'worker.ts'), 'webgpu-worker': join(root, 'src', 'backends', 'webgpu', 'worker.ts') }, outdir: join(out, 'app') });
refuseNode(app, 'dist/web/app');
for (const f of ['index.html', 'style.css']) copyFileSync(join(root, 'src', 'web', f), join(out, 'app', f));

const size = (f) => statSync(f).size;
const gz = (f) => gzipSync(readFileSync(f), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
const bundle = join(out, 'minimind.js');
const worker = join(out, 'app', 'worker.js');
console.log(`web: dist/web/minimind.js ${kb(size(bundle))} (${kb(gz(bundle))} gzip); the page's worker ${kb(size(worker))} (${kb(gz(worker))} gzip)`);
if (leaked) console.error('web: the page will not load until the imports above are fixed');
