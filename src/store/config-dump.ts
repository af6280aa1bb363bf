// The appliance's configuration as rows: what `ferry config export` carries
// and `ferry config import` puts back. Trails, nonces and invites stay out:
// they are history and short-lived secrets, not configuration. Chains and
// copies go in: they are how the receiver knows the replicas on its data
// pools, which outlive a dead system disk.

import { z } from 'zod';
import { FerryError } from '../domain/errors.js';
import type { Db } from './db.js';

/** In the order rows must be inserted (foreign keys point backwards). */
export const CONFIG_TABLES = ['settings', 'peers', 'pools', 'pool_grants', 'pool_policies', 'tasks', 'chains', 'chain_replicas', 'copies'] as const;
export type ConfigTable = (typeof CONFIG_TABLES)[number];

const cell = z.union([z.string(), z.number(), z.null()]);
export const ConfigDump = z.strictObject({
  /** The schema version (migrations) the rows were read at. */
  schema: z.number().int().min(1),
  tables: z.record(z.enum(CONFIG_TABLES), z.array(z.record(z.string(), cell)).max(1_000_000)),
});
export type ConfigDump = z.infer<typeof ConfigDump>;

function columnsOf(db: Db, table: ConfigTable): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
}

export function dumpConfig(db: Db): ConfigDump {
  const schema = db.pragma('user_version', { simple: true }) as number;
  const rows = (table: ConfigTable): Record<string, string | number | null>[] => db.prepare(`SELECT * FROM ${table}`).all() as Record<string, string | number | null>[];
  return { schema, tables: Object.fromEntries(CONFIG_TABLES.map((t) => [t, rows(t)])) as ConfigDump['tables'] };
}

/** Replaces the configuration tables with the dump's rows, in one transaction: all or nothing. */
export function loadConfig(db: Db, dump: ConfigDump): void {
  const schema = db.pragma('user_version', { simple: true }) as number;
  if (dump.schema !== schema) {
    throw new FerryError('INVALID_INPUT', `the export was made by a Ferry with database schema ${dump.schema}, this one has ${schema}: import it with that version, then upgrade`);
  }
  db.transaction(() => {
    for (const table of [...CONFIG_TABLES].reverse()) db.prepare(`DELETE FROM ${table}`).run();
    for (const table of CONFIG_TABLES) {
      const known = new Set(columnsOf(db, table));
      for (const row of dump.tables[table] ?? []) {
        const names = Object.keys(row);
        const unknown = names.find((n) => !known.has(n));
        if (unknown !== undefined) throw new FerryError('INVALID_INPUT', `the export has a column '${unknown.slice(0, 64)}' that table ${table} does not`);
        db.prepare(`INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`).run(...names.map((n) => row[n] ?? null));
      }
    }
  })();
}
