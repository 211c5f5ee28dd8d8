// Builds the native CPU backend (src/backends/cpu, C++17 via node-gyp) at `npm install`.
// A failed build must never fail the install: the package then runs on the plain-TypeScript
// js backend, and we say so in one line.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

if (!existsSync('binding.gyp')) process.exit(0);
// npm passes the path of its bundled node-gyp to install scripts; outside npm use the one on PATH.
const gypScript = process.env.npm_config_node_gyp;
const [cmd, args] = gypScript ? [process.execPath, [gypScript, 'rebuild']] : ['node-gyp', ['rebuild']];
const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  const why = ((r.stderr || '') + (r.error ? String(r.error) : '')).trim().split('\n').filter(Boolean).pop() ?? 'unknown error';
  console.warn(`minimind: the native CPU backend did not build, so the slower js backend will be used (${why})`);
}
