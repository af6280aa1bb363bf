import type { Command } from 'commander';
import type { AdminClient } from '../../api/client.js';
import type { RestoreView } from '../../api/schemas.js';
import { formatBytes } from '../../util/bytes.js';
import { adminClient, type GlobalOptions } from '../context.js';
import { EXIT_FAILED } from '../exit-codes.js';
import { line, lineToStderr, printJson, shown } from '../output.js';

interface RestoreOptions {
  from: string;
  pool?: string;
  snapshot?: string;
  to: string;
  wait?: boolean;
  json?: boolean;
}

export function registerRestore(program: Command, globals: () => GlobalOptions): void {
  program
    .command('restore')
    .argument('<share>', "the share's name as the peer holds it (as in 'ferry task list')")
    .requiredOption('--from <peer>', 'the peer holding its replicas (id or name)')
    .option('--pool <pool>', "the peer's pool, when the share goes to more than one there")
    .option('--snapshot <name>', 'which replica (default the newest)')
    .requiredOption('--to <path>', 'where the writable share goes: a path that does not exist yet, on the pool of the share')
    .option('--wait', 'wait for the restore to end (progress on a terminal); exit 0 only if it succeeded')
    .option('--json', 'one JSON document on stdout')
    .description('get a share back from a replica on a peer, over the same sealed transport; incremental when a snapshot it descends from is still here')
    .action(async (share: string, opts: RestoreOptions) => {
      const client = adminClient(globals());
      let view = await client.restore({
        share,
        from: opts.from,
        to: opts.to,
        ...(opts.pool === undefined ? {} : { pool: opts.pool }),
        ...(opts.snapshot === undefined ? {} : { snapshot: opts.snapshot }),
      });
      if (opts.wait) view = await follow(client, view, opts.json === true);
      if (opts.json) printJson(view);
      else line(describe(view));
      if (view.state === 'failed') {
        if (!opts.json) lineToStderr(`ferry: restore of ${shown(view.share)} failed: ${shown(view.error ?? 'no reason given')} [${view.errorCode ?? 'FAILED'}]`);
        process.exitCode = EXIT_FAILED;
      }
    });
}

function describe(v: RestoreView): string {
  const how = v.mode === 'local' ? 'the snapshot was still here, nothing travelled' : `${v.mode}${v.parent ? ` on ${v.parent}` : ''}, ${formatBytes(v.bytes)} received`;
  if (v.state === 'running') return `restore ${v.id} of ${v.share} ${v.snapshot} from ${v.peer} started (${v.mode}${v.parent ? ` on ${v.parent}` : ''}); follow it with 'ferry trail receive'`;
  if (v.state === 'succeeded') return `restored ${v.share} ${v.snapshot} from ${v.peer} to ${v.path} (writable; ${how})`;
  return `restore of ${v.share} ${v.snapshot} from ${v.peer} failed`;
}

async function follow(client: AdminClient, started: RestoreView, json: boolean): Promise<RestoreView> {
  // Loaded here, not at start: only a followed transfer draws a bar (and its library costs every other command start-up).
  const { TransferProgress } = await import('../progress.js');
  // With --json, stdout holds the one JSON document: no plain progress lines there.
  const progress = new TransferProgress(`restore ${started.share}`, { lines: !json });
  let view = started;
  try {
    while (view.state === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 300));
      view = await client.getRestore(started.id);
      progress.update({ bytes: view.bytes, total: null, state: view.state === 'running' ? 'receiving' : view.state, ended: view.state !== 'running' });
    }
  } finally {
    progress.stop();
  }
  return view;
}
