// Secrets asked on the terminal: never echoed, never taken from the command line (ps would show them).

import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/** Reads one line from the terminal without echoing it. */
export function ask(prompt: string): Promise<string> {
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  // The interface first: it puts the terminal in raw mode, where nothing typed is echoed. A prompt shown
  // before that would let an answer typed at once (type-ahead, a second prompt) echo in cooked mode.
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  process.stderr.write(prompt);
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

/** The first line of standard input, for scripts that pipe a secret in. */
export async function firstLineOfStdin(): Promise<string> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const first of rl) {
    rl.close();
    return first;
  }
  return '';
}
