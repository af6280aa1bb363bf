// One daemon per state dir. Two `ferry serve` on one state dir would serve one
// database twice, mark each other's runs interrupted at start, and the one
// that stops first would delete bound.json under the other (with port 0,
// nothing else stops the second: it binds ports of its own). So the daemon
// holds an exclusive SQLite lock on `serve.lock` (a POSIX lock the kernel
// drops when the process dies, however it dies) from before it touches
// anything until it has stopped, and says its pid in `serve.pid` for the
// refusal a second one prints.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { FerryError } from '../domain/errors.js';

export interface ServeLock {
  /** Drops the lock (at the end of a clean stop); safe to call twice. */
  release(): void;
}

export const SERVE_LOCK = 'serve.lock';
export const SERVE_PID = 'serve.pid';

/** Takes the state dir's lock, or refuses (DAEMON_RUNNING) naming the pid of the daemon that holds it. */
export function lockStateDir(root: string, pid: number = process.pid): ServeLock {
  const db = new Database(path.join(root, SERVE_LOCK), { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    const holder = readHolder(root);
    throw new FerryError(
      'DAEMON_RUNNING',
      `another 'ferry serve'${holder === null ? '' : ` (pid ${holder})`} is running on the state dir ${root}: stop it first (systemctl stop ferry), or give this one another --state`,
    );
  }
  const pidFile = path.join(root, SERVE_PID);
  writeFileSync(pidFile, `${pid}\n`, { mode: 0o644 });
  let held = true;
  return {
    release(): void {
      if (!held) return;
      held = false;
      rmSync(pidFile, { force: true });
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

function readHolder(root: string): number | null {
  try {
    const n = Number(readFileSync(path.join(root, SERVE_PID), 'utf8').trim());
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
