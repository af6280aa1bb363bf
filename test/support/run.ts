import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Spawns `file` (argv array, no shell), collects what it prints, and resolves
 * with how it exited; rejects only if it cannot start. Its stdin gets `input`
 * and then end of file at once.
 */
function collect(file: string, args: readonly string[], options: { input?: string | Buffer; env?: NodeJS.ProcessEnv }): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    // A command that exits without reading its input is not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a command (argv array, no shell) and resolves with its stdout; rejects with stderr on a non-zero exit. */
export async function run(cmd: string, args: readonly string[], options: { input?: string | Buffer } = {}): Promise<string> {
  const result = await collect(cmd, args, options);
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** Run a system tool (argv array, no shell) and report how it exited; rejects only if it cannot start. */
export function runCommand(file: string, args: readonly string[]): Promise<CommandResult> {
  // LC_ALL=C: the retry logic matches English messages ("target is busy").
  return collect(file, args, { env: { ...process.env, LC_ALL: 'C' } });
}
