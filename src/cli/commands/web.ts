// `minimind web build --out site/ [--model DIR]`: the in-browser page (MiniMind computed in the
// visitor's tab) as a static folder; `minimind serve` also serves it at /app/.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, parseFlags, requireFlag } from '../args.js';
import { refuseOverlap } from '../../core/paths.js';
import { refuseExisting } from '../outputs.js';
import { writeSite } from '../../serve/web-app.js';

const USAGE = `Usage:
  minimind web build --out <dir> [--model <model folder>] [--overwrite]

Writes the in-browser page (index.html, app.js, worker.js, style.css) to --out. Open it from any
static file server: "Run here" chats with a model folder loaded from the server (--model copies
config.json, model.safetensors and the tokenizer files into <dir>/model/) or dropped into the page;
"Train here" runs the quickstart in the tab. The page loads nothing from other hosts.`;

export async function run(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(USAGE);
    return;
  }
  if (sub !== 'build') throw new CliError(`unknown web subcommand '${sub}' (build)\n\n${USAGE}`);
  const p = parseFlags(rest, { out: { type: 'string' }, model: { type: 'string' }, overwrite: { type: 'boolean' } }, USAGE);
  if (!p) return;
  const out = requireFlag(p.values, 'out', USAGE);
  const model = p.values.model as string | undefined;
  if (model !== undefined) {
    if (!existsSync(model) || !statSync(model).isDirectory()) throw new CliError(`--model ${model} is not a folder (a model folder holds config.json, model.safetensors, tokenizer.json)`);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) if (!existsSync(join(model, f))) throw new CliError(`--model ${model} has no ${f}`);
  }
  if (existsSync(out) && !statSync(out).isDirectory()) throw new CliError(`--out ${out} is a file; give a folder`);
  if (model !== undefined) refuseOverlap(['--out', out], [['--model', model]]);
  refuseExisting('--out', out, p.values.overwrite === true);
  const files = writeSite(out, model);
  console.log(`web: wrote ${files.length} files to ${out} (serve the folder over http: a page opened as a file cannot start its worker)`);
}
