// Builds the native CPU backend (src/backends/cpu, C++17 via node-gyp) at `npm install`.
// A failed build must never fail the install: the package then runs on the plain-TypeScript
// js backend, and we say so in one line.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';

if (!existsSync('binding.gyp')) process.exit(0);
// npm passes the path of its bundled node-gyp to install scripts; outside npm use the one on PATH.
// Outside npm, fall back to the node-gyp bundled with the npm that sits next to this node.
const bundledGyp = join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gypScript = process.env.npm_config_node_gyp || (existsSync(bundledGyp) ? bundledGyp : undefined);
const [cmd, args] = gypScript ? [process.execPath, [gypScript, 'rebuild']] : ['node-gyp', ['rebuild']];
// Offline machines: when npm gave no nodedir, use the headers installed next to this node binary
// (e.g. /usr/include/node) instead of letting node-gyp download them.
const localHeaders = join(dirname(dirname(process.execPath)), 'include', 'node', 'node_api.h');
if (!process.env.npm_config_nodedir && existsSync(localHeaders)) args.push(`--nodedir=${dirname(dirname(process.execPath))}`);
const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  // the compiler's first error line says more than node-gyp's closing 'gyp ERR! not ok'
  const lines = ((r.stderr || '') + (r.error ? '\n' + String(r.error) : '')).trim().split('\n').filter(Boolean);
  const why = (lines.find((l) => /error/i.test(l) && !l.startsWith('gyp ')) ?? lines.pop() ?? 'unknown error').trim();
  console.warn(`minimind: the native CPU backend did not build, so the slower js backend will be used (${why})`);
  // CI (MINIMIND_CI_STRICT=1, set by .ci/run) must notice: there the install fails instead.
  if (process.env.MINIMIND_CI_STRICT === '1') process.exit(1);
}
