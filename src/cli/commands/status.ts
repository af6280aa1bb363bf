import type { Command } from 'commander';
import { adminClient, type GlobalOptions } from '../context.js';
import { line, printJson, printTable } from '../output.js';
import { formatBytes } from '../../util/bytes.js';

export function registerStatus(program: Command, globals: () => GlobalOptions): void {
  program
    .command('status')
    .description('id, name, fingerprint, addresses, service state, running transfers')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { json?: boolean }) => {
      const status = await adminClient(globals()).status();
      if (opts.json) return printJson(status);
      line(`appliance    ${status.name} (${status.id})`);
      line(`fingerprint  ${status.fingerprint}`);
      line(`listen       ${status.listen}   advertise ${status.advertise}   admin ${status.admin}`);
      line(`service      ${status.service}`);
      const { ui } = status;
      const where = [ui.local, ui.lan].filter((u) => u !== null).join('   ');
      line(`web UI       ${where === '' ? 'not served (the admin API is not on loopback and config.json has no "ui" listener)' : where}${ui.passwordSet ? '' : "   (no password yet: 'ferry admin password')"}`);
      if (ui.tlsFingerprint) line(`certificate  SHA-256 ${ui.tlsFingerprint}`);
      line('transfers');
      printTable(
        ['direction', 'task', 'peer', 'share', 'snapshot', 'bytes'],
        status.transfers.map((t) => [t.direction, t.task, t.peer, t.share, t.snapshot, t.bytes === undefined ? null : formatBytes(t.bytes)]),
      );
    });

  const service = program.command('service').description('turn the replication service on or off');
  for (const [verb, enabled] of [['enable', true], ['disable', false]] as const) {
    service
      .command(verb)
      .description(`${verb} replication: ${enabled ? 'scheduled runs start and peers may send' : 'no scheduled run starts and new transfers are refused'}`)
      .action(async () => {
        const status = await adminClient(globals()).setService(enabled);
        line(`replication service ${status.service}`);
      });
  }
}
