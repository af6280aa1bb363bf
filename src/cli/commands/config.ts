import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DaemonUnreachable } from '../../api/client-errors.js';
import type * as ConfigBackup from '../../daemon/config-backup.js';
import type { ExportSummary } from '../../daemon/config-backup.js';
import { FerryError } from '../../domain/errors.js';
import { adminClient, stateDirOf, type GlobalOptions } from '../context.js';
import { line, printJson } from '../output.js';
import { ask } from '../prompt.js';

interface PassphraseOptions {
  passphraseFile?: string;
  force?: boolean;
  json?: boolean;
  push?: string;
}

/** From --passphrase-file, else $FERRY_PASSPHRASE, else asked on the terminal (twice when it seals). Never from the command line: ps would show it. */
async function passphrase(opts: PassphraseOptions, confirm: boolean): Promise<string> {
  if (opts.passphraseFile !== undefined) {
    const text = await readFile(opts.passphraseFile, 'utf8').catch(() => {
      throw new FerryError('NOT_FOUND', `cannot read the passphrase file ${opts.passphraseFile}`);
    });
    return text.split('\n')[0] ?? '';
  }
  const env = process.env.FERRY_PASSPHRASE;
  if (env !== undefined && env !== '') return env;
  if (!process.stdin.isTTY) throw new FerryError('INVALID_INPUT', 'no passphrase: give one with --passphrase-file FILE or FERRY_PASSPHRASE, or run this on a terminal');
  const first = await ask('passphrase: ');
  if (confirm && (await ask('again: ')) !== first) throw new FerryError('INVALID_INPUT', 'the two passphrases differ');
  return first;
}

/** The work itself is done on the state dir, not through the daemon: loaded only when a config verb runs. */
function backup(): Promise<typeof ConfigBackup> {
  return import('../../daemon/config-backup.js');
}

function describe(verb: string, s: ExportSummary): string {
  return `${verb} appliance ${s.name} (${s.id}): ${s.peers} peer(s), ${s.pools} pool(s), ${s.tasks} task(s)`;
}

export function registerConfig(program: Command, globals: () => GlobalOptions): void {
  const config = program.command('config').description("back up and restore this appliance's configuration (identity keys included)");
  config
    .command('export')
    .argument('<file>', 'where the sealed export goes (written 0600)')
    .option('--passphrase-file <file>', 'read the passphrase from the first line of this file (else $FERRY_PASSPHRASE, else asked)')
    .option('--force', 'replace the file if it exists')
    .option('--push <peer>', 'also leave the sealed file with this paired peer, offsite with the data (it cannot open it)')
    .option('--json', 'one JSON document on stdout')
    .description('seal identity keys, peers, pools, grants, policies, tasks and settings into a file, under a passphrase (scrypt, 128 MiB)')
    .action(async (file: string, opts: PassphraseOptions) => {
      const state = stateDirOf(globals());
      const { exportConfig, pushConfig } = await backup();
      const made = await exportConfig(state, file, await passphrase(opts, true), { force: opts.force === true });
      const pushed = opts.push === undefined ? null : await pushConfig(state, opts.push, file);
      if (opts.json) return printJson({ ...made, pushed });
      line(`${describe('exported', made)} to ${file}`);
      if (pushed) line(`left with ${pushed.peer} (${pushed.bytes} bytes); get it back there with 'ferry config kept <this appliance> --to FILE'`);
      line('keep the passphrase apart from the file: together they are this appliance');
    });
  config
    .command('kept')
    .argument('<peer>', 'the peer whose export this appliance keeps (id or name; a removed peer by id)')
    .requiredOption('--to <file>', 'where to write it (0600); it must not exist')
    .description("write out the sealed export a peer left here with 'config export --push', to import on its new system disk")
    .action(async (peer: string, opts: { to: string }) => {
      const { keptConfig } = await backup();
      const kept = await keptConfig(stateDirOf(globals()), peer, opts.to);
      line(`the export of ${kept.peer} written to ${kept.file}`);
    });
  config
    .command('import')
    .argument('<file>', "a file made by 'ferry config export'")
    .option('--passphrase-file <file>', 'read the passphrase from the first line of this file (else $FERRY_PASSPHRASE, else asked)')
    .option('--force', 'replace the appliance already in the state dir (its daemon must be stopped)')
    .option('--json', 'one JSON document on stdout')
    .description('bring an appliance back from an export into an empty state dir: same id, peers, pools, grants and tasks; no pairing again')
    .action(async (file: string, opts: PassphraseOptions) => {
      const state = stateDirOf(globals());
      if (opts.force && (await state.exists())) {
        const running = await adminClient(globals()).status().then(
          () => true,
          (err: unknown) => !(err instanceof DaemonUnreachable),
        );
        if (running) throw new FerryError('INVALID_INPUT', `a daemon is running on ${state.root}: stop it before importing over it`);
      }
      const { importConfig } = await backup();
      const made = await importConfig(state, file, await passphrase(opts, false), { force: opts.force === true });
      if (opts.json) return printJson(made);
      line(`${describe('imported', made)} into ${state.root}; start it with 'ferry serve'`);
    });
}
