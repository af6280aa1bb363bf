// Settings: string values under dotted keys such as 'service.enabled'.
import type { Db } from './db.js';

export class SettingsRepo {
  private readonly getStmt;
  private readonly setStmt;
  private readonly removeStmt;
  private readonly listStmt;

  constructor(db: Db) {
    this.getStmt = db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck();
    this.setStmt = db.prepare<[string, string]>(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    this.removeStmt = db.prepare<[string]>('DELETE FROM settings WHERE key = ?');
    this.listStmt = db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings ORDER BY key');
  }

  get(key: string): string | undefined {
    return this.getStmt.get(key);
  }

  /** Sets the value, replacing any earlier one. */
  set(key: string, value: string): void {
    this.setStmt.run(key, value);
  }

  /** Removes the key; false when it was not set. */
  remove(key: string): boolean {
    return this.removeStmt.run(key).changes > 0;
  }

  /** Every setting, by key. */
  list(): { key: string; value: string }[] {
    return this.listStmt.all();
  }
}
