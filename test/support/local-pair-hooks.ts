// Vitest hooks around an in-process pair on two fresh loop pools with a share
// named 'share': made before the file's tests, torn down after them even when
// they fail. Kept apart from pair.ts, which child processes import without vitest.

import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { localPair, type LocalPair } from './pair.js';
import { createPool, type Pool } from './pools.js';

export interface LocalPairSetup {
  source: Pool;
  target: Pool;
  pair: LocalPair;
}

export function useLocalPair(options: { sizeMiB?: number } = {}): LocalPairSetup {
  const setup = {} as LocalPairSetup;
  beforeAll(async () => {
    setup.source = await createPool({ sizeMiB: options.sizeMiB ?? 256 });
    setup.target = await createPool({ sizeMiB: options.sizeMiB ?? 256 });
    setup.pair = await localPair({ source: setup.source, target: setup.target });
    await setup.pair.btrfs.create(path.join(setup.source.path, 'share'));
  });
  afterAll(async () => {
    await setup.pair?.close();
    await setup.source?.destroy();
    await setup.target?.destroy();
  });
  return setup;
}
