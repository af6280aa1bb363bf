// `ferry admin password`: sets the web UI's login password. Written straight
// into the state dir (a scrypt hash, 0600), so it works whether or not the
// daemon runs; a running daemon reads it at the next sign-in, and sessions
// signed in under the old password end.

import type { Command } from 'commander';
import { FerryError } from '../../domain/errors.js';
import { stateDirOf, type GlobalOptions } from '../context.js';
import { line } from '../output.js';
import { ask, firstLineOfStdin } from '../prompt.js';

async function newPassword(): Promise<string> {
  if (!process.stdin.isTTY) return firstLineOfStdin();
  const first = await ask('new web UI password: ');
  if ((await ask('again: ')) !== first) throw new FerryError('INVALID_INPUT', 'the two passwords differ; nothing changed');
  return first;
}

export function registerAdmin(program: Command, globals: () => GlobalOptions): void {
  const admin = program.command('admin').description("the web UI's access");
  admin
    .command('password')
    .description("set the web UI's login password (asked on the terminal, or the first line of standard input)")
    .action(async () => {
      const state = stateDirOf(globals());
      if (!(await state.exists())) throw new FerryError('NOT_FOUND', `no appliance in ${state.root}: run 'ferry init' first (or pass --state DIR)`);
      // Loaded here: hashing needs node:crypto, which no other read command pays for.
      const { passwordProblem, writePassword } = await import('../../state/ui-password.js');
      const password = await newPassword();
      const problem = passwordProblem(password);
      if (problem) throw new FerryError('INVALID_INPUT', `${problem}; nothing changed`);
      await writePassword(state.root, password);
      line('web UI password set; sessions signed in with the old one have ended');
    });
}
