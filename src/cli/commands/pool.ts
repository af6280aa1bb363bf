import type { Command } from 'commander';
import { adminClient, type GlobalOptions } from '../context.js';
import { line, printJson, printTable } from '../output.js';

export function registerPool(program: Command, globals: () => GlobalOptions): void {
  const pool = program.command('pool').description('pools: btrfs mounts where peers may write their replicas');
  pool
    .command('add')
    .argument('<name>', 'a name for the pool')
    .argument('<path>', 'absolute path of a mounted btrfs filesystem (or a directory on one)')
    .description('grant a pool to paired peers')
    .action(async (name: string, path: string) => {
      const added = await (await adminClient(globals())).addPool(name, path);
      line(`pool ${added.name} added at ${added.path}`);
    });
  pool
    .command('list')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { json?: boolean }) => {
      const pools = await (await adminClient(globals())).listPools();
      if (opts.json) return printJson(pools);
      printTable(['name', 'path', 'added'], pools.map((p) => [p.name, p.path, p.createdAt]));
    });
  pool
    .command('remove')
    .argument('<name>')
    .description('stop granting a pool (replicas already there stay)')
    .action(async (name: string) => {
      await (await adminClient(globals())).removePool(name);
      line(`pool ${name} removed`);
    });
}
