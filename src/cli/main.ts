#!/usr/bin/env -S node --max-semi-space-size=2
// (The flag caps V8's young generation at 2 MiB per semi-space. A transfer
// allocates fast, and V8 would grow it to 16 MiB per semi-space, which measured
// as ~30 MiB more peak RSS for no CPU saved (npm run bench). It can only be given at
// launch, so it sits here and in deploy/ferry.service; test/support/launch.ts
// reads it from this line so tests and the bench launch the daemon the same
// way. src/daemon/heap.ts has the other half, which can be set at run time,
// and LAUNCH_FLAGS, which `serve` checks for, warning when they are missing.)
// The `ferry` command line (the contract is shared/CLI.md): verbs, flags,
// JSON fields and exit codes that scripts rely on.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { GlobalOptions } from './context.js';
import { report } from './errors.js';
import { EXIT_USAGE } from './exit-codes.js';

/** The version in package.json: beside dist/ when bundled (dist/ferry.cjs), else above src/cli or dist/src/cli. */
function version(): string {
  for (const up of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ferry' && pkg.version) return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

type Register = (program: Command, globals: () => GlobalOptions) => void;

/**
 * The verbs, in the order `ferry --help` lists them, each with the module
 * that declares it. Only the module of the verb being run is loaded (the
 * bundle initialises a dynamically imported module when it is first
 * imported): what a command does not use, other verbs' schemas and
 * libraries, costs it no start-up. Help and unknown verbs load them all.
 */
const verbs: readonly (readonly [names: readonly string[], load: () => Promise<Register>])[] = [
  [['init'], async () => (await import('./commands/init.js')).registerInit],
  [['serve'], async () => (await import('./commands/serve.js')).registerServe],
  [['status', 'service'], async () => (await import('./commands/status.js')).registerStatus],
  [['pool'], async () => (await import('./commands/pool.js')).registerPool],
  [['pair'], async () => (await import('./commands/pair.js')).registerPair],
  [['peer'], async () => (await import('./commands/peer.js')).registerPeer],
  [['task'], async () => (await import('./commands/task.js')).registerTask],
  [['trail'], async () => (await import('./commands/trail.js')).registerTrail],
  [['replica'], async () => (await import('./commands/replica.js')).registerReplica],
  [['restore'], async () => (await import('./commands/restore.js')).registerRestore],
  [['config'], async () => (await import('./commands/config.js')).registerConfig],
  [['admin'], async () => (await import('./commands/admin.js')).registerAdmin],
];

/** The verb: the first argument that is neither an option nor the value of --state (tools/ferry-launcher.cjs, which runs before this bundle, reads it the same way). */
function verbOf(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--state') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return null;
}

export async function buildProgram(args: readonly string[]): Promise<Command> {
  const program = new Command('ferry')
    .description('replicate btrfs shares between paired appliances')
    .version(version(), '-V, --version', 'the version of this ferry')
    .option('--state <dir>', 'state directory (default $FERRY_STATE, else /var/lib/ferry)')
    .exitOverride();
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const verb = verbOf(args);
  const wanted = verbs.filter(([names]) => verb !== null && names.includes(verb));
  // `ferry --version` needs no verb; help and a verb ferry lacks (which commander answers with the list) need them all.
  const versionOnly = verb === null && args.some((a) => a === '-V' || a === '--version') && !args.some((a) => a === '-h' || a === '--help');
  for (const [, load] of wanted.length > 0 ? wanted : versionOnly ? [] : verbs) (await load())(program, globals);
  // Subcommands report usage errors the same way as the top level: one line,
  // as every other refusal, pointing at the command's own help (not printing all of it).
  const override = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.configureOutput({ outputError: (text, write) => write(usageLine(text, commandPath(cmd))) });
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

/** `ferry task add`: the words that name a command. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Commander's "error: unknown option '--x'" as Ferry says a refusal. */
export function usageLine(text: string, command: string): string {
  const message = text.trim().replace(/^error: /, '');
  return `ferry: ${message} (see '${command} --help') [USAGE]\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await (await buildProgram(argv)).parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    return report(err);
  }
}

// A reader that goes away (`ferry trail send | head`) ends the command
// quietly, as other command-line tools do, instead of with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// Not a top-level await: the bundle (tools/bundle-cli.js) is a CommonJS script, run from V8's code cache.
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
