import type { Command } from 'commander';
import { adminClient, type GlobalOptions } from '../context.js';
import { line, printJson, printTable } from '../output.js';

export function registerPeer(program: Command, globals: () => GlobalOptions): void {
  const peer = program.command('peer').description('paired appliances');
  peer
    .command('list')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { json?: boolean }) => {
      const peers = await (await adminClient(globals())).listPeers();
      if (opts.json) return printJson(peers);
      printTable(
        ['name', 'id', 'address', 'fingerprint', 'paired', 'granted pools'],
        peers.map((p) => [p.name, p.id, p.address, p.fingerprint, p.pairedAt, p.grants.length === 0 ? null : p.grants.join(', ')]),
      );
    });
  peer
    .command('remove')
    .argument('<peer>', "the peer's id or name")
    .description('unpair at once: its next request and any transfer in flight are refused')
    .action(async (name: string) => {
      const removed = await (await adminClient(globals())).removePeer(name);
      line(`peer ${removed.name} (${removed.id}) removed`);
    });
  peer
    .command('set-address')
    .argument('<peer>', "the peer's id or name")
    .argument('<address>', 'HOST:PORT where the peer now answers')
    .description('the peer moved (new IP, new port forward); its keys are unchanged')
    .action(async (name: string, address: string) => {
      const updated = await (await adminClient(globals())).setPeerAddress(name, address);
      line(`peer ${updated.name} now at ${updated.address}`);
    });
}
