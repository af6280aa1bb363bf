import type { Command } from 'commander';
import { stateDirOf, type GlobalOptions } from '../context.js';

export function registerServe(program: Command, globals: () => GlobalOptions): void {
  program
    .command('serve')
    .description('run the daemon in the foreground; SIGTERM or SIGINT stop it cleanly')
    .action(async () => {
      // Loaded here, not at the top: every other command starts without the daemon.
      const { missingLaunchFlags, tuneHeapForStreaming } = await import('../../daemon/heap.js');
      const { Appliance } = await import('../../daemon/appliance.js');
      tuneHeapForStreaming();
      const appliance = await Appliance.open(stateDirOf(globals()));
      const missing = missingLaunchFlags();
      if (missing.length > 0) {
        // Started as `node main.js serve` rather than as `ferry serve` or the unit: it works, with a larger young generation.
        appliance.logger.warn('node was started without the flags of the ferry command; transfers will use about 30 MiB more memory', { missing });
      }
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
