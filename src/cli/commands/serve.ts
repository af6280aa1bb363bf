import type { Command } from 'commander';
import { Appliance } from '../../daemon/appliance.js';
import { tuneHeapForStreaming } from '../../daemon/heap.js';
import { stateDirOf, type GlobalOptions } from '../context.js';

export function registerServe(program: Command, globals: () => GlobalOptions): void {
  program
    .command('serve')
    .description('run the daemon in the foreground; SIGTERM or SIGINT stop it cleanly')
    .action(async () => {
      tuneHeapForStreaming();
      const appliance = await Appliance.open(stateDirOf(globals()));
      await appliance.start();
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          resolve();
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      await appliance.stop();
    });
}
