// Where the daemon's servers listen: HOST:PORT, or for the admin API a unix
// socket made 0600; each refusal is one sentence (LISTEN_FAILED) naming the
// address and the likely cause.

import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { FerryError } from '../domain/errors.js';
import type { Logger } from '../log/logger.js';
import { adminSocketPath, type Config } from '../state/state-dir.js';
import { splitHostPort } from './addresses.js';
import { adminExposure } from './init.js';

/**
 * The admin API on its address: a unix socket made 0600 (a stale one left by
 * a crash is replaced, a live one is not), or HOST:PORT, which must be
 * loopback unless the admin chose otherwise at init; then it says so at every start.
 */
export async function listenAdmin(server: FastifyInstance, config: Config, logger: Logger): Promise<string> {
  const { admin } = config;
  const socket = adminSocketPath(admin);
  if (socket === null) {
    if (adminExposure(admin)) {
      if (!config.adminBeyondLoopback) {
        throw new FerryError('INVALID_INPUT', `the admin API address ${admin} in config.json is reachable from other machines; keep it on 127.0.0.1 or a unix socket, or set "adminBeyondLoopback": true if you mean it`);
      }
      logger.warn('the admin API listens beyond loopback: anyone who reaches it with the token controls this appliance; prefer 127.0.0.1 or a unix socket', { admin });
    }
    return listenOn(server, admin, 'for the admin API');
  }
  const stale = await lstat(socket).then(
    (s) => s.isSocket(),
    () => false,
  );
  if (stale && (await socketAnswers(socket))) {
    throw new FerryError('LISTEN_FAILED', `cannot listen for the admin API on ${admin}: another daemon answers there (is another 'ferry serve' running?)`);
  }
  if (stale) await unlink(socket);
  await mkdir(path.dirname(socket), { recursive: true, mode: 0o700 });
  try {
    await server.listen({ path: socket });
  } catch (err) {
    throw new FerryError('LISTEN_FAILED', `cannot listen for the admin API on ${admin}: ${(err as Error).message}`, { cause: err });
  }
  await chmod(socket, 0o600);
  return admin;
}

/** True when something accepts connections on the unix socket. */
function socketAnswers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socket);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Listens on HOST:PORT, or says in one sentence why it cannot. Answers the address bound (the port chosen, for port 0). */
export async function listenOn(server: FastifyInstance, address: string, what: string): Promise<string> {
  const { host, port } = splitHostPort(address);
  try {
    await server.listen({ host, port });
    const bound = server.server.address();
    return typeof bound === 'object' && bound !== null ? `${address.slice(0, address.lastIndexOf(':'))}:${bound.port}` : address;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? "the address is in use (is another 'ferry serve' running, or another program on that port?)"
        : code === 'EADDRNOTAVAIL'
          ? 'this machine has no such address'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
    throw new FerryError('LISTEN_FAILED', `cannot listen ${what} on ${address}: ${why}`, { cause: err });
  }
}
