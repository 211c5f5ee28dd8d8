// `minimind launch`: flags -> LaunchOptions -> launch() (src/dist/launch.ts).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { CliError } from '../args.js';
import { launch, validateLaunch, type LaunchOptions } from '../../dist/launch.js';
import { checkStageInputs, type StageOptions } from '../../train/options.js';

const STAGES = ['pretrain', 'sft', 'lora', 'dpo', 'distill', 'grpo', 'agent'];
/** Why an RL stage does not split across ranks yet. */
const NOT_YET: Record<string, string> = {
  ppo: 'its advantages are whitened and its minibatches drawn over the whole rollout',
};

const USAGE = `Usage: minimind launch --nproc-per-node N [--nnodes M --node-rank R --master-addr A --master-port P] <stage> [stage flags]

Data-parallel training: N processes on this node (one per GPU; ranks use GPU LOCAL_RANK), M nodes
in all. Stages: ${STAGES.join(', ')} (grpo, agent: each rank samples and scores its slice of the
step's prompts). --batch-size is the global batch (split across all ranks), so
the data order and the result do not depend on the number of GPUs, and --resume works with another
number of GPUs. Rank 0 alone logs and writes checkpoints. GPUs sum gradients with NCCL (libnccl.so.2,
or MINIMIND_NCCL=path); CPU ranks through the rendezvous. If a rank fails or is killed, every rank stops.
  --nproc-per-node N       processes on this node [1]
  --nnodes M               nodes in the job [1]
  --node-rank R            this node's number, 0..M-1 [0]
  --master-addr A          address of node 0 (rank 0 listens there) [127.0.0.1]
  --master-port P          TCP port of the rendezvous [29500]
Environment of every rank: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT
(torchrun's), NCCL_NVLS_ENABLE=0, MINIMIND_THREADS=cores/N (unless set). MINIMIND_DIST_TIMEOUT (s, [300]) bounds the wait for all ranks.
Example: minimind launch --nproc-per-node 2 pretrain --data t.jsonl --tokenizer tok/ --batch-size 64`;

const FLAGS: Record<string, string> = { '--nproc-per-node': 'nprocPerNode', '--nnodes': 'nnodes', '--node-rank': 'nodeRank', '--master-addr': 'masterAddr', '--master-port': 'masterPort' };

export async function run(argv: string[]): Promise<void> {
  const o: Record<string, string | number> = {};
  let i = 0;
  for (; i < argv.length && argv[i].startsWith('-'); i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return void console.log(USAGE);
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const key = FLAGS[flag];
    if (!key) throw new CliError(`unknown option '${flag}' (launch's own flags come before the stage)\n\n${USAGE}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new CliError(`${flag} needs a value\n\n${USAGE}`);
    if (key === 'masterAddr') o[key] = value;
    else {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw new CliError(`${flag} must be a number, got '${value}'\n\n${USAGE}`);
      o[key] = n;
    }
  }
  const stage = argv[i];
  if (stage === undefined) throw new CliError(`give the stage to run, e.g. 'minimind launch --nproc-per-node 2 pretrain ...'\n\n${USAGE}`);
  if (NOT_YET[stage]) throw new CliError(`launch: ${stage} is not data-parallel yet (${NOT_YET[stage]}); run it as one process: minimind ${stage} ...`);
  if (!STAGES.includes(stage)) throw new CliError(`launch: '${stage}' is not a training stage (one of ${STAGES.join(', ')})\n\n${USAGE}`);
  if (o.nprocPerNode === undefined) throw new CliError(`--nproc-per-node is required\n\n${USAGE}`);
  const main = join(dirname(dirname(fileURLToPath(import.meta.url))), 'main.js');
  const options: LaunchOptions = {
    nprocPerNode: o.nprocPerNode as number,
    nnodes: o.nnodes as number | undefined,
    nodeRank: o.nodeRank as number | undefined,
    masterAddr: o.masterAddr as string | undefined,
    masterPort: o.masterPort as number | undefined,
    args: [main, ...argv.slice(i)],
    log: (m) => process.stderr.write(m + '\n'),
  };
  validateLaunch(options);
  // The stage's flags and inputs are checked here, before any rank starts: a missing file is one
  // line at once instead of every rank finding it after the rendezvous.
  const command = (await import(`./${stage}.js`)) as { options(argv: string[]): StageOptions | null };
  const stageOptions = command.options(argv.slice(i + 1));
  if (!stageOptions) return; // --help
  checkStageInputs(stageOptions);
  const job = launch(options);
  // Ctrl-C reaches every rank from the terminal (each stops after its step); the launcher waits.
  const ignore = () => {};
  const term = () => job.kill('SIGTERM');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', term);
  const r = await job.done;
  process.off('SIGINT', ignore);
  process.off('SIGTERM', term);
  if (r.failure) process.stderr.write(`minimind: launch: rank ${r.failure.rank} ${r.failure.how}; the other ranks were stopped\n`);
  process.exitCode = r.exitCode;
}
