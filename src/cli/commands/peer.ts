import type { Command } from 'commander';
import { adminClient, type GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { line, printJson, printTable } from '../output.js';

export function registerPeer(program: Command, globals: () => GlobalOptions): void {
  const peer = program.command('peer').description('paired appliances');
  peer
    .command('list')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { json?: boolean }) => {
      const peers = await adminClient(globals()).listPeers();
      if (opts.json) return printJson(peers);
      printTable(
        ['name', 'id', 'address', 'fingerprint', 'paired', 'granted pools'],
        peers.map((p) => [p.name, p.id, p.address, p.fingerprint, p.pairedAt, p.grants.length === 0 ? null : p.grants.join(', ')]),
      );
    });
  peer
    .command('remove')
    .argument('<peer>', "the peer's id or name")
    .option('--tasks <what>', "what becomes of the tasks that send to it: 'pause' (default) or 'remove'")
    .description('unpair at once: its next request and any transfer in flight are refused; its tasks are paused (or removed)')
    .action(async (name: string, opts: { tasks?: string }) => {
      if (opts.tasks !== undefined && opts.tasks !== 'pause' && opts.tasks !== 'remove') throw new UsageError(`--tasks takes 'pause' or 'remove', not '${opts.tasks}'`);
      const removed = await adminClient(globals()).removePeer(name, opts.tasks);
      line(`peer ${removed.name} (${removed.id}) removed`);
      const { told } = removed;
      if (told.reached) line(`  ${removed.name} heard of it and removed this appliance too${told.tasksPaused > 0 ? `; it paused its ${told.tasksPaused} task(s) that sent here` : ''}`);
      else line(`  ${removed.name} could not be told (${told.error ?? 'no answer'}): remove this appliance there too with 'ferry peer remove'`);
      const names = removed.tasks.map((t) => t.name).join(', ');
      if (removed.tasks.length === 0) return;
      if (removed.tasks[0]?.action === 'removed') line(`  its tasks removed: ${names}`);
      else line(`  its tasks paused (they would only fail): ${names}; point them at another peer with 'ferry task remove' and 'task add', or resume them once it is paired again`);
    });
  peer
    .command('set-address')
    .argument('<peer>', "the peer's id or name")
    .argument('<address>', 'HOST:PORT where the peer now answers')
    .description('the peer moved (new IP, new port forward); its keys are unchanged')
    .action(async (name: string, address: string) => {
      const updated = await adminClient(globals()).setPeerAddress(name, address);
      line(`peer ${updated.name} now at ${updated.address}`);
    });
}
