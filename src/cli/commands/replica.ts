import type { Command } from 'commander';
import { formatBytes } from '../../util/bytes.js';
import { adminClient, type GlobalOptions } from '../context.js';
import { line, printJson, printTable } from '../output.js';

interface CopyOptions {
  peer: string;
  pool?: string;
  snapshot?: string;
  to: string;
  json?: boolean;
}

export function registerReplica(program: Command, globals: () => GlobalOptions): void {
  const replica = program.command('replica').description('replicas this appliance received, and writable copies of them');
  replica
    .command('list')
    .option('--peer <peer>', "only this peer's (id or name)")
    .option('--share <name>', 'only this share')
    .option('--json', 'one JSON document on stdout')
    .description('peer, share, snapshots with time, size, path and received UUID; the newest one, and the copies made of them')
    .action(async (opts: { peer?: string; share?: string; json?: boolean }) => {
      const replicas = await adminClient(globals()).listReplicas({
        ...(opts.peer === undefined ? {} : { peer: opts.peer }),
        ...(opts.share === undefined ? {} : { share: opts.share }),
      });
      if (opts.json) return printJson(replicas);
      printTable(
        ['peer', 'pool', 'share', 'snapshot', 'received', 'stream', 'received UUID', 'path'],
        replicas.flatMap((r) =>
          r.snapshots.map((s) => [r.peerName ?? r.peer, r.pool, r.share, s.newest ? `${s.name} (newest)` : s.name, s.committedAt, formatBytes(s.bytes), s.receivedUuid, s.path]),
        ),
      );
      for (const r of replicas) for (const c of r.copies) line(`  ${c.kind} of ${r.share} ${c.snapshot}: ${c.path}`);
    });

  for (const [verb, kind, text] of [
    ['promote', 'promote', 'make a writable share from a replica (a writable snapshot of it; the replica and its chain stay as they are)'],
    ['clone', 'clone', "test a failover: a writable scratch copy of a replica, removed again with 'ferry replica discard PATH'"],
  ] as const) {
    replica
      .command(verb)
      .argument('<share>', "the share's name as this appliance received it")
      .requiredOption('--peer <peer>', 'the peer that sent it (id or name)')
      .option('--pool <pool>', 'the pool, when the peer sent the share into more than one')
      .option('--snapshot <name>', 'which replica (default the newest)')
      .requiredOption('--to <path>', 'where the writable copy goes: a new path in the same pool, beside the peer directories')
      .option('--json', 'one JSON document on stdout')
      .description(text)
      .action(async (share: string, opts: CopyOptions) => {
        const copy = await adminClient(globals()).copyReplica({
          kind,
          share,
          peer: opts.peer,
          to: opts.to,
          ...(opts.pool === undefined ? {} : { pool: opts.pool }),
          ...(opts.snapshot === undefined ? {} : { snapshot: opts.snapshot }),
        });
        if (opts.json) return printJson(copy);
        line(`${kind === 'promote' ? 'promoted' : 'cloned'} ${share} ${copy.snapshot} from ${opts.peer} to ${copy.path} (writable)`);
      });
  }

  replica
    .command('discard')
    .argument('<path>', "a clone made by 'ferry replica clone'")
    .description('delete a test-failover clone (a promoted share is never deleted by Ferry)')
    .action(async (path: string) => {
      const gone = await adminClient(globals()).discardClone(path);
      line(`discarded the clone of ${gone.share} ${gone.snapshot} at ${gone.path}`);
    });
}
