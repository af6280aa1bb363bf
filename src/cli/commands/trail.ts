import type { Command } from 'commander';
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

export function registerTrail(program: Command, globals: () => GlobalOptions): void {
  const trail = program.command('trail').description('the durable record of every attempt');
  trail
    .command('send')
    .description('attempts this appliance made to send, newest first')
    .option('--task <name>', 'only this task')
    .option('--limit <n>', 'at most N entries', '50')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { task?: string; limit?: string; json?: boolean }) => {
      const limit = limitOf(opts.limit);
      const entries = await (await adminClient(globals())).sendTrail({ ...(opts.task ? { task: opts.task } : {}), ...(limit ? { limit } : {}) });
      if (opts.json) return printJson(entries);
      printTable(
        ['started', 'task', 'peer', 'snapshot', 'mode', 'status', 'bytes', 'error'],
        entries.map((e) => [e.startedAt, e.task, e.peer, e.snapshot, e.mode, e.status, formatBytes(e.bytes), e.errorCode ? `${e.errorCode}: ${firstLine(e.error)}` : null]),
      );
    });
  trail
    .command('receive')
    .description('transfers this appliance received, newest first')
    .option('--peer <peer>', 'only from this peer')
    .option('--share <name>', 'only this share')
    .option('--limit <n>', 'at most N entries', '50')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { peer?: string; share?: string; limit?: string; json?: boolean }) => {
      const limit = limitOf(opts.limit);
      const entries = await (await adminClient(globals())).receiveTrail({
        ...(opts.peer ? { peer: opts.peer } : {}),
        ...(opts.share ? { share: opts.share } : {}),
        ...(limit ? { limit } : {}),
      });
      if (opts.json) return printJson(entries);
      printTable(
        ['started', 'peer', 'share', 'snapshot', 'mode', 'status', 'bytes', 'error'],
        entries.map((e) => [e.startedAt, e.peer, e.share, e.snapshot, e.mode, e.status, formatBytes(e.bytes), e.errorCode ? `${e.errorCode}: ${firstLine(e.error)}` : null]),
      );
    });
}

function firstLine(text: string | null): string {
  return (text ?? '').split('\n')[0] ?? '';
}
