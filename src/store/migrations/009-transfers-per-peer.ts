import { sql, type Migration } from './step.js';

export const v9: Migration = {
  version: 9,
  name: 'a pool (or one peer on it) sets how many transfers a peer may hold at once',
  up: sql(`
      ALTER TABLE pool_policies ADD COLUMN max_transfers INTEGER CHECK (max_transfers BETWEEN 1 AND 64);
    `),
};
