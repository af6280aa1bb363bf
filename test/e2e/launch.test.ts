// The daemon says so when node was started without the flags of the `ferry`
// command (src/daemon/heap.ts), and says nothing when it was.

import { afterAll, expect, it } from 'vitest';
import { initAppliance, removeState, startDaemon, stopAllDaemons } from '../support/cli.js';

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
