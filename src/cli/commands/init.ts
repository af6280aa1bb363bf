import type { Command } from 'commander';
import { stateDirOf, type GlobalOptions } from '../context.js';
import { line } from '../output.js';

export function registerInit(program: Command, globals: () => GlobalOptions): void {
  program
    .command('init')
    .description('make this machine an appliance: identity keys, admin token, config')
    .requiredOption('--name <name>', 'a human name for this appliance')
    .requiredOption('--listen <host:port>', 'where the peer API listens')
    .option('--admin <address>', 'where the admin API listens: HOST:PORT or unix:/path (default 127.0.0.1 and the port after --listen)')
    .option('--admin-beyond-loopback', 'let --admin be an address other machines reach (the daemon warns at every start)')
    .option('--advertise <host:port>', 'where peers reach us (NAT, port forward); default --listen')
    .option('--ui <host:port>', 'also serve the web UI on the LAN here, over TLS (self-signed unless config.json names a certificate)')
    .action(async (opts: { name: string; listen: string; admin?: string; advertise?: string; adminBeyondLoopback?: boolean; ui?: string }) => {
      const state = stateDirOf(globals());
      const { initAppliance } = await import('../../daemon/init.js');
      const made = await initAppliance(state, opts);
      line(`appliance ${made.config.name} (${made.id}) initialised in ${state.root}`);
      line(`fingerprint ${made.fingerprint}`);
      line(`peer API ${made.config.listen} (advertised as ${made.config.advertise}), admin API ${made.config.admin}`);
      if (made.config.ui) line(`web UI https://${made.config.ui.listen}/ with certificate SHA-256 ${made.uiFingerprint}`);
      line("set the web UI's password with 'ferry admin password'");
    });
}
