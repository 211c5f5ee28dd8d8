// `minimind bench` — placeholder until its issue lands; says so plainly instead of pretending.
import { CliError } from '../args.js';

export async function run(_argv: string[]): Promise<void> {
  throw new CliError("'bench' is not available yet in this build");
}
