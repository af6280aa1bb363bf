import type { Command } from 'commander';
import type { AdminClient } from '../../api/client.js';
import type { TrailQuery } from '../../api/schemas.js';
import { endStatuses } from '../../domain/trail.js';
import { formatBytes } from '../../util/bytes.js';
import { adminClient, type GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { printJson, printTable } from '../output.js';

function limitOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw new UsageError(`--limit must be a whole number from 1 to 10000, not '${text}'`);
  return n;
}

interface RangeOptions {
  status?: string;
  since?: string;
  until?: string;
  before?: string;
}

const statuses = ['running', ...endStatuses] as const;

/** --status, --since, --until and --before, as the trail routes take them (the same filters as the web UI's). */
function rangeOf(opts: RangeOptions): Pick<TrailQuery, 'status' | 'since' | 'until' | 'before'> {
  const status = opts.status;
  if (status !== undefined && !(statuses as readonly string[]).includes(status)) throw new UsageError(`--status takes one of ${statuses.join(', ')}, not '${status}'`);
  const time = (flag: string, text: string | undefined): string | undefined => {
    if (text === undefined) return undefined;
    const at = new Date(text);
    if (Number.isNaN(at.getTime())) throw new UsageError(`${flag} must be a time like 2026-11-30 or 2026-11-30T06:00:00Z, not '${text}'`);
    return at.toISOString();
  };
  const since = time('--since', opts.since);
  const until = time('--until', opts.until);
  return {
    ...(status === undefined ? {} : { status: status as (typeof statuses)[number] }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(opts.before === undefined ? {} : { before: opts.before }),
  };
}

function rangeOptions(command: Command): Command {
  return command
    .option('--status <status>', `only attempts in this state: ${statuses.join(', ')}`)
    .option('--since <time>', 'only attempts started at or after this time')
    .option('--until <time>', 'only attempts started before this time')
    .option('--before <id>', 'the next page: attempts listed after this one (the last id of the page before)');
}

export function registerTrail(program: Command, globals: () => GlobalOptions): void {
  const trail = program.command('trail').description('the durable record of every attempt');
  rangeOptions(trail.command('send').description('attempts this appliance made to send, newest first').option('--task <name>', 'only this task'))
    .option('--limit <n>', 'at most N entries', '50')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: RangeOptions & { task?: string; limit?: string; json?: boolean }) => {
      const limit = limitOf(opts.limit);
      const client = adminClient(globals());
      const entries = await client.sendTrail({ ...(opts.task ? { task: opts.task } : {}), ...rangeOf(opts), ...(limit ? { limit } : {}) });
      if (opts.json) return printJson(entries);
      const peer = await peerNames(client);
      printTable(
        ['started', 'task', 'peer', 'snapshot', 'mode', 'status', 'bytes', 'error'],
        entries.map((e) => [e.startedAt, e.task, peer(e.peer), e.snapshot, e.mode, e.status, formatBytes(e.bytes), e.errorCode ? `${e.errorCode}: ${firstLine(e.error)}` : null]),
      );
    });
  rangeOptions(
    trail.command('receive').description('transfers this appliance received, newest first').option('--peer <peer>', 'only from this peer').option('--share <name>', 'only this share'),
  )
    .option('--limit <n>', 'at most N entries', '50')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: RangeOptions & { peer?: string; share?: string; limit?: string; json?: boolean }) => {
      const limit = limitOf(opts.limit);
      const client = adminClient(globals());
      const entries = await client.receiveTrail({
        ...(opts.peer ? { peer: opts.peer } : {}),
        ...(opts.share ? { share: opts.share } : {}),
        ...rangeOf(opts),
        ...(limit ? { limit } : {}),
      });
      if (opts.json) return printJson(entries);
      const peer = await peerNames(client);
      printTable(
        ['started', 'peer', 'share', 'snapshot', 'mode', 'status', 'bytes', 'error'],
        entries.map((e) => [e.startedAt, peer(e.peer), e.share, e.snapshot, e.mode, e.status, formatBytes(e.bytes), e.errorCode ? `${e.errorCode}: ${firstLine(e.error)}` : null]),
      );
    });
}

/** A peer's name where this appliance knows it (the trail keeps the id, which outlives an unpairing). */
async function peerNames(client: AdminClient): Promise<(id: string) => string> {
  const names = new Map((await client.listPeers()).map((p) => [p.id, p.name]));
  return (id) => names.get(id) ?? id;
}

function firstLine(text: string | null): string {
  return (text ?? '').split('\n')[0] ?? '';
}
