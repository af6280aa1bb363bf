import type { Command } from 'commander';
import { INVITE_TTL } from '../../api/schemas.js';
import { parseDuration } from '../../domain/names.js';
import { adminClient, type GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { line, lineToStderr, printJson } from '../output.js';

export function registerPair(program: Command, globals: () => GlobalOptions): void {
  const pair = program.command('pair').description('pair this appliance with another by a one-line invite');
  pair
    .command('invite')
    .description('print a single-use invite for another appliance to accept')
    .option('--ttl <duration>', 'how long the invite stays valid, like 15m or 1h', '15m')
    .option('--grant <pool>', 'grant this pool to the appliance that accepts the invite')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { ttl: string; grant?: string; json?: boolean }) => {
      const created = await adminClient(globals()).invite({ ttlSeconds: ttlOf(opts.ttl), ...(opts.grant === undefined ? {} : { grantPool: opts.grant }) });
      if (opts.json) return printJson(created);
      line(created.invite);
      lineToStderr(`valid until ${created.expiresAt}, once; our fingerprint: ${created.fingerprint}`);
      if (opts.grant !== undefined) lineToStderr(`whoever accepts it may write into pool ${opts.grant}`);
      lineToStderr(`on the other appliance run: ferry pair accept '<the line above>'`);
    });
  pair
    .command('accept')
    .argument('<invite>', 'the line printed by `ferry pair invite` on the other appliance')
    .description('pair with the appliance that printed the invite (both sides store each other at once)')
    .action(async (invite: string) => {
      const peer = await adminClient(globals()).accept(invite);
      line(`paired with ${peer.name} (${peer.id}) at ${peer.address}`);
      line(`fingerprint ${peer.fingerprint}: compare it with 'ferry status' there`);
    });
}

/** An invite lives from a minute to a week (the daemon's bounds), said in the flag's own terms. */
function ttlOf(text: string): number {
  const seconds = parseDuration(text);
  if (seconds < INVITE_TTL.minSeconds || seconds > INVITE_TTL.maxSeconds) throw new UsageError(`--ttl takes a duration from 1m to 7d, like 15m or 2h, not '${text}'`);
  return seconds;
}
