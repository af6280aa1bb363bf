import type { Command } from 'commander';
import { adminClient, type GlobalOptions } from '../context.js';
import { printJson, printTable } from '../output.js';

export function registerReplica(program: Command, globals: () => GlobalOptions): void {
  const replica = program.command('replica').description('replicas this appliance received');
  replica
    .command('list')
    .option('--peer <peer>', "only this peer's (id or name)")
    .option('--share <name>', 'only this share')
    .option('--json', 'one JSON document on stdout')
    .description('peer, share, snapshots with path and received UUID')
    .action(async (opts: { peer?: string; share?: string; json?: boolean }) => {
      const replicas = await (await adminClient(globals())).listReplicas({
        ...(opts.peer === undefined ? {} : { peer: opts.peer }),
        ...(opts.share === undefined ? {} : { share: opts.share }),
      });
      if (opts.json) return printJson(replicas);
      printTable(
        ['peer', 'pool', 'share', 'snapshot', 'received UUID', 'path'],
        replicas.flatMap((r) => r.snapshots.map((s) => [r.peerName ?? r.peer, r.pool, r.share, s.name, s.receivedUuid, s.path])),
      );
    });
}
