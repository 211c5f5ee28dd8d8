// A page is one process: no data-parallel group (group.ts's rendezvous needs worker threads and sockets).
import { UserError } from '../core/errors.js';
export type { DistEnv } from './group.js';

export const distEnv = (): null => null;

export class ProcessGroup {
  static async join(): Promise<never> {
    throw new UserError('multi-process training (WORLD_SIZE > 1) is not available in a web page');
  }
}
