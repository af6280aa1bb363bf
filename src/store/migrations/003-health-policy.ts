import { sql, type Migration } from './step.js';

export const v3: Migration = {
  version: 3,
  name: 'per-task pool health policy, scheduler slots, health findings in the trails',
  // Defaults follow the boot-degraded choice of seed 003: keep replicating
  // from a degraded source (a fresh copy matters most then), hold writes to
  // a degraded target. last_slot is the schedule slot a task last ran for,
  // written only when a run starts, so an idle daemon writes nothing.
  up: sql(`
      ALTER TABLE tasks ADD COLUMN on_degraded_source TEXT NOT NULL DEFAULT 'replicate' CHECK (on_degraded_source IN ('replicate', 'hold'));
      ALTER TABLE tasks ADD COLUMN on_degraded_target TEXT NOT NULL DEFAULT 'hold' CHECK (on_degraded_target IN ('replicate', 'hold'));
      ALTER TABLE tasks ADD COLUMN last_slot TEXT;
      ALTER TABLE send_trail ADD COLUMN findings TEXT;
      ALTER TABLE receive_trail ADD COLUMN findings TEXT;
    `),
};
