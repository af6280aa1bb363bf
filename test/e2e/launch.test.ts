// The daemon says so when node was started without the flags of the `ferry`
// command (src/daemon/heap.ts), and says nothing when it was; it gives up at
// once when it cannot listen.

import net from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { ferry, initAppliance, removeState, startDaemon, stopAllDaemons } from '../support/cli.js';

const WARNING = /node was started without the flags of the ferry command/;
const states: string[] = [];

afterAll(async () => {
  await stopAllDaemons();
  for (const state of states) await removeState(state);
});

it('warns, naming the flag, when started as plain `node main.js serve`', async () => {
  const appliance = await initAppliance('plain');
  states.push(appliance.state);
  const daemon = await startDaemon(appliance, 'plain', { nodeFlags: [] });
  await daemon.stop();
  expect(daemon.log()).toMatch(WARNING);
  expect(daemon.log()).toMatch(/--max-semi-space-size=2/);
});

it('does not warn when started as the ferry command starts', async () => {
  const appliance = await initAppliance('flagged');
  states.push(appliance.state);
  const daemon = await startDaemon(appliance, 'flagged');
  await daemon.stop();
  expect(daemon.log()).toMatch(/appliance started/);
  expect(daemon.log()).not.toMatch(WARNING);
});

it('exits at once, non-zero, with one sentence, when its peer or admin port is taken', async () => {
  const appliance = await initAppliance('blocked');
  states.push(appliance.state);
  // What a start that succeeds costs here (to the first answer of its admin API), for comparison.
  const t0 = performance.now();
  const started = await startDaemon(appliance, 'blocked');
  const startup = performance.now() - t0;
  await started.stop();
  expect((await ferry(appliance.state, ['status'])).code).toBe(3);
  for (const port of [appliance.port, appliance.adminPort]) {
    const squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const t1 = performance.now();
      const served = await ferry(appliance.state, ['serve']);
      const took = performance.now() - t1;
      expect(served.code).toBe(1);
      const lines = served.stderr.trim().split('\n').filter((l) => l.startsWith('ferry:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`cannot listen (for peers|for the admin API) on 127\\.0\\.0\\.1:${port}: the address is in use .* \\[LISTEN_FAILED\\]`));
      // It gave up at once instead of staying up half started (which would last until some timeout, 10 s or more).
      expect(took).toBeLessThan(startup + 1_000);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  }
});
