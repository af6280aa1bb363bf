// Readiness for systemd (deploy/ferry.service, Type=notify): once both
// listeners are up, the daemon says READY=1. Node cannot send on the unix
// datagram socket systemd listens on, so it runs systemd-notify, with its
// own pid (the unit has NotifyAccess=all). Outside systemd (no NOTIFY_SOCKET)
// this does nothing.

import { spawn } from 'node:child_process';
import type { Logger } from '../log/logger.js';

export function notifySystemd(state: { ready?: boolean; status: string }, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!env.NOTIFY_SOCKET) return Promise.resolve();
  const args = [...(state.ready ? ['--ready'] : []), `--pid=${process.pid}`, `--status=${state.status}`];
  return new Promise((resolve) => {
    const child = spawn('systemd-notify', args, { stdio: 'ignore', env });
    child.once('error', (err) => {
      logger.warn('cannot tell systemd the daemon is ready (is systemd-notify installed?)', { error: err.message });
      resolve();
    });
    child.once('exit', (code) => {
      if (code !== 0) logger.warn('systemd-notify failed', { code, args });
      resolve();
    });
  });
}
