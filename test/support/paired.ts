// Two paired appliances as real daemons, each with its own loop pool, the
// receiver granting its pool as 'backup' and the sender holding a share:
// the starting point of tests about what happens during replication.

import path from 'node:path';
import type { StatusView } from '../../src/api/schemas.js';
import { Btrfs } from '../../src/btrfs/index.js';
import { ferryJson, ferryOk, initAppliance, mergeConfig, removeState, startDaemon, stopAllDaemons, type Daemon, type StartOptions } from './cli.js';
import { createPool, type Pool } from './pools.js';
import { TcpProxy } from './tcp-proxy.js';

export interface PairedDaemons {
  alpha: Daemon;
  beta: Daemon;
  alphaId: string;
  betaId: string;
  sourcePool: Pool;
  targetPool: Pool;
  share: string;
  /**
   * Restarts a daemon (after stop or kill) on the same state dir and ports,
   * with the environment it was first started with unless `options` give another.
   */
  restart(which: 'alpha' | 'beta', options?: StartOptions): Promise<Daemon>;
  close(): Promise<void>;
}

type Appliance = Awaited<ReturnType<typeof initAppliance>>;

export async function pairedDaemons(
  options: {
    sourceMiB?: number;
    targetMiB?: number;
    shareName?: string;
    env?: { alpha?: NodeJS.ProcessEnv | undefined; beta?: NodeJS.ProcessEnv | undefined };
    /** Merged into alpha's config.json before it starts (scheduler settings, ...). */
    alphaConfig?: Record<string, unknown>;
    /** False: leave pairing and beta's pool to the test (the web UI test does them through the UI). */
    pair?: boolean;
  } = {},
): Promise<PairedDaemons> {
  const sourcePool = await createPool({ sizeMiB: options.sourceMiB ?? 512 });
  const targetPool = await createPool({ sizeMiB: options.targetMiB ?? 512 });
  const a = await initAppliance('alpha');
  const b = await initAppliance('beta');
  const close = async (): Promise<void> => {
    await stopAllDaemons();
    await sourcePool.destroy();
    await targetPool.destroy();
    await removeState(a.state);
    await removeState(b.state);
  };
  // A setup that fails half-way (beta's port taken, a pairing refused) leaves no daemon, pool or
  // state dir behind: the test never got `pair`, so its afterAll cannot close it.
  try {
    return await startPair(options, { sourcePool, targetPool, a, b, close });
  } catch (err) {
    await close();
    throw err;
  }
}

async function startPair(
  options: Parameters<typeof pairedDaemons>[0] & object,
  made: { sourcePool: Pool; targetPool: Pool; a: Appliance; b: Appliance; close: () => Promise<void> },
): Promise<PairedDaemons> {
  const { sourcePool, targetPool, a, b, close } = made;
  if (options.alphaConfig) await mergeConfig(a.state, options.alphaConfig);
  const pair: PairedDaemons = {
    alpha: await startDaemon(a, 'alpha', { env: options.env?.alpha }),
    beta: await startDaemon(b, 'beta', { env: options.env?.beta }),
    alphaId: '',
    betaId: '',
    sourcePool,
    targetPool,
    share: path.join(sourcePool.path, options.shareName ?? 'data'),
    restart: async (which, startOptions) => {
      const d = await startDaemon(which === 'alpha' ? a : b, which, startOptions ?? { env: options.env?.[which] });
      pair[which] = d;
      return d;
    },
    close,
  };
  pair.alphaId = (await ferryJson<StatusView>(a.state, ['status'])).id;
  pair.betaId = (await ferryJson<StatusView>(b.state, ['status'])).id;
  if (options.pair !== false) {
    const invite = (await ferryOk(b.state, ['pair', 'invite'])).trim();
    await ferryOk(a.state, ['pair', 'accept', invite]);
    await ferryOk(b.state, ['pool', 'add', 'backup', targetPool.path]);
  }
  await new Btrfs().create(pair.share);
  return pair;
}

/** Alpha reaches beta through a TCP proxy limited to `rate` bytes a second, so a transfer lasts long enough to watch, cancel or stop. */
export async function slowLinkToBeta(pair: PairedDaemons, rate: number): Promise<TcpProxy> {
  const proxy = new TcpProxy(pair.beta.port, { rate });
  await proxy.start();
  await ferryOk(pair.alpha.state, ['peer', 'set-address', 'beta', `127.0.0.1:${proxy.port}`]);
  return proxy;
}

/** Beta reaches alpha through a TCP proxy (to cut, stall or hold what beta sends alpha: a restore's stream, say). */
export async function proxyToAlpha(pair: PairedDaemons): Promise<TcpProxy> {
  const proxy = new TcpProxy(pair.alpha.port);
  await proxy.start();
  await ferryOk(pair.beta.state, ['peer', 'set-address', 'alpha', `127.0.0.1:${proxy.port}`]);
  return proxy;
}
