import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Task } from '../../src/domain/task.js';
import type { ReceiveTrailEntry, SendTrailEntry, TrailStatus } from '../../src/domain/trail.js';
import type { Db } from '../../src/store/db.js';
import { openDatabase } from '../../src/store/db.js';
import type { Migration } from '../../src/store/migrations.js';
import { migrate, migrations } from '../../src/store/migrations.js';
import type { Store, TrailStart } from '../../src/store/index.js';
import { openStore } from '../../src/store/index.js';
import { codeOf, errorOf } from '../support/errors.js';

function task(name: string, over: Partial<Task> = {}): Task {
  return {
    name,
    sharePath: `/mnt/data/${name}`,
    share: name,
    peer: 'peer-b',
    pool: 'tank',
    schedule: { kind: 'every', seconds: 3600 },
    keepLocal: 5,
    keepRemote: 10,
    paused: false,
    createdAt: '2024-05-01T10:00:00.000Z',
    healthPolicy: { onDegradedSource: 'replicate', onDegradedTarget: 'hold' },
    ...over,
  };
}

function attempt(id: string, over: Partial<TrailStart> = {}): TrailStart {
  return {
    id,
    task: 'docs',
    share: 'docs',
    snapshot: `docs@${id}`,
    parent: null,
    mode: 'full',
    peer: 'peer-b',
    pool: 'tank',
    reason: 'no common snapshot',
    startedAt: '2024-05-01T10:00:00.000Z',
    ...over,
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function userVersionOf(path: string): number {
  const raw = new Database(path);
  try {
    return raw.pragma('user_version', { simple: true }) as number;
  } finally {
    raw.close();
  }
}

describe('opening and migrations', () => {
  it('creates a new file 0600 in WAL mode and migrates it from empty', () => {
    const path = join(dir, 'ferry.db');
    const store = openStore(path);
    try {
      store.settings.set('service.enabled', 'true'); // a write, so the WAL file exists
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(existsSync(`${path}-wal`)).toBe(true);
      expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
      expect(userVersionOf(path)).toBe(migrations.length);
      const raw = new Database(path, { readonly: true });
      const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      const journal = raw.pragma('journal_mode', { simple: true });
      raw.close();
      expect(tables).toEqual(['chain_replicas', 'chains', 'copies', 'invites', 'nonces', 'peers', 'pool_grants', 'pool_policies', 'pools', 'receive_trail', 'send_trail', 'settings', 'tasks']);
      expect(journal).toBe('wal');
    } finally {
      store.close();
    }
  });

  it('sets the connection pragmas', () => {
    const db = openDatabase(join(dir, 'p.db'));
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('opens in memory', () => {
    const store = openStore(':memory:');
    store.tasks.add(task('docs'));
    expect(store.tasks.list().map((t) => t.name)).toEqual(['docs']);
    store.close();
  });

  it('reports a directory that does not exist as a FerryError', () => {
    expect(codeOf(() => openStore(join(dir, 'missing', 'ferry.db')))).toBe('INTERNAL');
  });

  it('keeps data across a reopen and does not re-run migrations', () => {
    const path = join(dir, 'ferry.db');
    const first = openStore(path);
    first.tasks.add(task('docs'));
    first.pools.add({ name: 'tank', path: '/mnt/tank' });
    first.close();

    // Migration 1 creates tables without IF NOT EXISTS: running it again would throw.
    const second = openStore(path);
    expect(second.tasks.get('docs')).toEqual(task('docs'));
    expect(second.pools.get('tank')?.path).toBe('/mnt/tank');
    second.close();
    expect(userVersionOf(path)).toBe(migrations.length);
  });

  it('applies only the migrations a database lacks, in order', () => {
    const order: number[] = [];
    const step = (version: number): Migration => ({
      version,
      name: `step ${version}`,
      up: vi.fn((db: Db) => {
        order.push(version);
        db.exec(`CREATE TABLE t${version} (x INTEGER)`);
      }),
    });
    const list = [step(1), step(2)];
    const path = join(dir, 'm.db');

    const db1 = openDatabase(path);
    expect(migrate(db1, list.slice(0, 1))).toEqual({ from: 0, to: 1 });
    db1.close();
    const db2 = openDatabase(path);
    expect(migrate(db2, list)).toEqual({ from: 1, to: 2 });
    expect(migrate(db2, list)).toEqual({ from: 2, to: 2 });
    db2.close();

    expect(order).toEqual([1, 2]);
    expect(list[0]?.up).toHaveBeenCalledTimes(1);
    expect(list[1]?.up).toHaveBeenCalledTimes(1);
  });

  it('migration 5 keeps the send trail and its order, and un-makes the mode and snapshot of attempts that never planned', () => {
    const path = join(dir, 'v4.db');
    const db = openDatabase(path);
    migrate(db, migrations.slice(0, 4));
    const insert = db.prepare(
      "INSERT INTO send_trail (id, task, share, snapshot, parent, mode, peer, pool, reason, status, started_at) VALUES (?, 't', 's', ?, ?, ?, 'p', 'q', ?, 'failed', '2026-01-01T00:00:00.000Z')",
    );
    insert.run('b-full', '20260101T000000.000Z', null, 'full', 'no common snapshot');
    insert.run('a-unplanned', '', null, 'full', 'not planned: the peer could not be reached');
    insert.run('c-incremental', '20260102T000000.000Z', '20260101T000000.000Z', 'incremental', null);
    db.close();

    const store = openStore(path);
    try {
      // Same started_at for all three: newest first is insertion order, reversed, as before.
      expect(store.sendTrail.list().map((e) => [e.id, e.mode, e.snapshot, e.parent])).toEqual([
        ['c-incremental', 'incremental', '20260102T000000.000Z', '20260101T000000.000Z'],
        ['a-unplanned', null, null, null],
        ['b-full', 'full', '20260101T000000.000Z', null],
      ]);
      store.sendTrail.start({ ...attempt('d'), snapshot: null, mode: null, parent: null, reason: 'not planned: x' });
      expect(store.sendTrail.get('d')).toMatchObject({ mode: null, snapshot: null });
      expect(codeOf(() => store.sendTrail.start({ ...attempt('e'), snapshot: null, mode: null, parent: 'p' }))).toBe('INVALID_INPUT');
    } finally {
      store.close();
    }
  });

  it('rolls back a failed migration and keeps the version of the last good one', () => {
    const list: Migration[] = [
      { version: 1, name: 'good', up: (db) => db.exec('CREATE TABLE a (x INTEGER)') },
      {
        version: 2,
        name: 'bad',
        up: (db) => {
          db.exec('CREATE TABLE b (x INTEGER)');
          throw new Error('boom');
        },
      },
    ];
    const path = join(dir, 'm.db');
    const db = openDatabase(path);
    const err = errorOf(() => migrate(db, list));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toMatch(/migration 2 \(bad\) failed: boom/);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    db.close();
    expect(tables).toEqual(['a']);
    expect(userVersionOf(path)).toBe(1);
  });

  it('refuses migrations that are not numbered 1, 2, 3, ...', () => {
    const db = openDatabase(':memory:');
    const noop = (): void => undefined;
    expect(codeOf(() => migrate(db, [{ version: 2, name: 'gap', up: noop }]))).toBe('INTERNAL');
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    db.close();
  });

  it('refuses a database written by a newer Ferry, and leaves it alone', () => {
    const path = join(dir, 'ferry.db');
    openStore(path).close();
    const newer = migrations.length + 1;
    const raw = new Database(path);
    raw.pragma(`user_version = ${newer}`);
    raw.close();

    const err = errorOf(() => openStore(path));
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toContain(`schema version ${newer}`);
    expect(err.message).toContain(`up to ${migrations.length}`);
    expect(err.message).toMatch(/newer Ferry/);
    expect(userVersionOf(path)).toBe(newer);
  });
});

describe('tasks', () => {
  let store: Store;
  beforeEach(() => {
    store = openStore(':memory:');
  });
  afterEach(() => store.close());

  it.each<{ name: string; t: Task }>([
    { name: 'every', t: task('docs') },
    { name: 'cron, paused', t: task('photos', { schedule: { kind: 'cron', expr: '0 3 * * *' }, paused: true, keepLocal: 0 }) },
    { name: 'policy reversed', t: task('mail', { healthPolicy: { onDegradedSource: 'hold', onDegradedTarget: 'replicate' } }) },
  ])('round-trips a task: $name', ({ t }) => {
    store.tasks.add(t);
    expect(store.tasks.get(t.name)).toEqual(t);
  });

  it('gives a task stored without a health policy the default one', () => {
    const { healthPolicy: _omitted, ...bare } = task('docs');
    store.tasks.add(bare);
    expect(store.tasks.get('docs')?.healthPolicy).toEqual({ onDegradedSource: 'replicate', onDegradedTarget: 'hold' });
  });

  it('updates what an admin may change, and keeps share, peer and pool', () => {
    store.tasks.add(task('docs'));
    const edited = task('docs', {
      schedule: { kind: 'cron', expr: '0 3 * * *' },
      keepLocal: 2,
      keepRemote: 30,
      healthPolicy: { onDegradedSource: 'hold', onDegradedTarget: 'replicate' },
      retries: 0,
      retryBackoffMs: 500,
      share: 'other',
      peer: 'peer-z',
      pool: 'elsewhere',
    });
    expect(store.tasks.update(edited)).toBe(true);
    expect(store.tasks.get('docs')).toEqual({ ...edited, share: 'docs', peer: 'peer-b', pool: 'tank' });
    expect(store.tasks.update(task('nope'))).toBe(false);
    expect(codeOf(() => store.tasks.update(task('docs', { keepLocal: -1 })))).toBe('INVALID_INPUT');
  });

  it('lists by name, removes, pauses', () => {
    for (const n of ['photos', 'docs', 'mail']) store.tasks.add(task(n));
    expect(store.tasks.list().map((t) => t.name)).toEqual(['docs', 'mail', 'photos']);

    expect(store.tasks.setPaused('mail', true)).toBe(true);
    expect(store.tasks.get('mail')?.paused).toBe(true);
    expect(store.tasks.setPaused('mail', false)).toBe(true);
    expect(store.tasks.get('mail')?.paused).toBe(false);
    expect(store.tasks.setPaused('nope', true)).toBe(false);

    expect(store.tasks.remove('mail')).toBe(true);
    expect(store.tasks.remove('mail')).toBe(false);
    expect(store.tasks.get('mail')).toBeUndefined();
    expect(store.tasks.list().map((t) => t.name)).toEqual(['docs', 'photos']);
  });

  it('refuses a duplicate name with ALREADY_EXISTS and keeps the first', () => {
    store.tasks.add(task('docs'));
    const err = errorOf(() => store.tasks.add(task('docs', { pool: 'other' })));
    expect(err.code).toBe('ALREADY_EXISTS');
    expect(err.message).toContain('"docs"');
    expect(store.tasks.get('docs')?.pool).toBe('tank');
  });

  it.each<{ name: string; over: Partial<Task> }>([
    { name: 'zero seconds', over: { schedule: { kind: 'every', seconds: 0 } } },
    { name: 'fractional seconds', over: { schedule: { kind: 'every', seconds: 1.5 } } },
    { name: 'empty cron', over: { schedule: { kind: 'cron', expr: '' } } },
    { name: 'unknown kind', over: { schedule: { kind: 'hourly' } as unknown as Task['schedule'] } },
    { name: 'negative keep', over: { keepRemote: -1 } },
    { name: 'bad createdAt', over: { createdAt: 'yesterday' } },
  ])('refuses an invalid task with INVALID_INPUT: $name', ({ over }) => {
    expect(codeOf(() => store.tasks.add(task('docs', over)))).toBe('INVALID_INPUT');
    expect(store.tasks.list()).toEqual([]);
  });

  it('keeps timestamps in one UTC form', () => {
    store.tasks.add(task('docs', { createdAt: '2024-05-01T12:00:00+02:00' }));
    expect(store.tasks.get('docs')?.createdAt).toBe('2024-05-01T10:00:00.000Z');
  });

  it.each([
    { name: 'not JSON', schedule: '{every 5' },
    { name: 'negative seconds', schedule: '{"kind":"every","seconds":-1}' },
    { name: 'unknown kind', schedule: '{"kind":"hourly"}' },
  ])('throws INTERNAL naming table and key for a corrupt schedule row: $name', ({ schedule }) => {
    const path = join(dir, 'ferry.db');
    const s = openStore(path);
    try {
      s.tasks.add(task('docs'));
      const raw = new Database(path);
      raw.prepare('UPDATE tasks SET schedule = ? WHERE name = ?').run(schedule, 'docs');
      raw.close();
      for (const read of [() => s.tasks.get('docs'), () => s.tasks.list()]) {
        const err = errorOf(read);
        expect(err.code).toBe('INTERNAL');
        expect(err.message).toContain('tasks');
        expect(err.message).toContain('"docs"');
        expect(err.message).toContain('schedule');
      }
    } finally {
      s.close();
    }
  });
});

describe('pools and settings', () => {
  let store: Store;
  beforeEach(() => {
    store = openStore(':memory:');
  });
  afterEach(() => store.close());

  it('adds, lists, refuses duplicates, removes pools', () => {
    store.pools.add({ name: 'tank', path: '/mnt/tank' });
    store.pools.add({ name: 'backup', path: '/mnt/backup' });
    expect(store.pools.list().map((p) => p.name)).toEqual(['backup', 'tank']);
    const tank = store.pools.get('tank');
    expect(tank?.path).toBe('/mnt/tank');
    expect(Number.isNaN(Date.parse(tank?.createdAt ?? ''))).toBe(false);
    expect(codeOf(() => store.pools.add({ name: 'tank', path: '/elsewhere' }))).toBe('ALREADY_EXISTS');
    expect(store.pools.remove('tank')).toBe(true);
    expect(store.pools.remove('tank')).toBe(false);
    expect(store.pools.get('tank')).toBeUndefined();
  });

  it('gets, sets, overwrites and removes settings', () => {
    expect(store.settings.get('service.enabled')).toBeUndefined();
    store.settings.set('service.enabled', 'true');
    store.settings.set('service.enabled', 'false');
    store.settings.set('api.port', '7070');
    expect(store.settings.get('service.enabled')).toBe('false');
    expect(store.settings.list()).toEqual([
      { key: 'api.port', value: '7070' },
      { key: 'service.enabled', value: 'false' },
    ]);
    expect(store.settings.remove('api.port')).toBe(true);
    expect(store.settings.remove('api.port')).toBe(false);
  });
});

describe('transaction', () => {
  it('commits on return and rolls back on throw', () => {
    const store = openStore(':memory:');
    expect(store.transaction(() => (store.tasks.add(task('a')), 42))).toBe(42);
    expect(() =>
      store.transaction(() => {
        store.tasks.add(task('b'));
        throw new Error('undo');
      }),
    ).toThrow('undo');
    expect(store.tasks.list().map((t) => t.name)).toEqual(['a']);
    store.close();
  });
});

// Both trails share a life cycle; run the same checks on each.
const trails = [
  { side: 'send', repo: (s: Store) => s.sendTrail },
  { side: 'receive', repo: (s: Store) => s.receiveTrail },
] as const;

describe.each(trails)('$side trail', ({ repo }) => {
  let store: Store;
  beforeEach(() => {
    store = openStore(':memory:');
  });
  afterEach(() => store.close());

  it('starts running, records progress, finishes once', () => {
    const trail = repo(store);
    trail.start(attempt('a1', { mode: 'incremental', parent: 'docs@a0', reason: null }));
    expect(trail.get('a1')).toMatchObject({
      id: 'a1',
      task: 'docs',
      share: 'docs',
      snapshot: 'docs@a1',
      parent: 'docs@a0',
      mode: 'incremental',
      peer: 'peer-b',
      pool: 'tank',
      reason: null,
      status: 'running',
      startedAt: '2024-05-01T10:00:00.000Z',
      endedAt: null,
      bytes: 0,
      errorCode: null,
      error: null,
    });

    trail.progress('a1', 1024);
    trail.progress('a1', 4096);
    expect(trail.get('a1')?.bytes).toBe(4096);

    trail.finish('a1', { status: 'failed', endedAt: '2024-05-01T10:05:00.000Z', bytes: 5000, errorCode: 'SEND_FAILED', error: 'ERROR: boom' });
    expect(trail.get('a1')).toMatchObject({
      status: 'failed',
      endedAt: '2024-05-01T10:05:00.000Z',
      bytes: 5000,
      errorCode: 'SEND_FAILED',
      error: 'ERROR: boom',
    });

    // A late progress call changes nothing; a second finish is refused.
    trail.progress('a1', 9999);
    expect(trail.get('a1')?.bytes).toBe(5000);
    const again = { status: 'succeeded', endedAt: '2024-05-01T10:06:00.000Z', bytes: 1, errorCode: null, error: null } as const;
    expect(codeOf(() => trail.finish('a1', again))).toBe('INTERNAL');
    expect(trail.get('a1')?.status).toBe('failed');
  });

  it('refuses bad calls with codes', () => {
    const trail = repo(store);
    trail.start(attempt('a1'));
    const done = { status: 'succeeded', endedAt: '2024-05-01T10:06:00.000Z', bytes: 1, errorCode: null, error: null } as const;
    expect(codeOf(() => trail.start(attempt('a1')))).toBe('ALREADY_EXISTS');
    expect(codeOf(() => trail.progress('nope', 1))).toBe('NOT_FOUND');
    expect(codeOf(() => trail.finish('nope', done))).toBe('NOT_FOUND');
    expect(codeOf(() => trail.progress('a1', -1))).toBe('INVALID_INPUT');
    expect(codeOf(() => trail.finish('a1', { ...done, bytes: 0.5 }))).toBe('INVALID_INPUT');
    expect(codeOf(() => trail.finish('a1', { ...done, status: 'running' as 'failed' }))).toBe('INVALID_INPUT');
    expect(codeOf(() => trail.start(attempt('a2', { mode: 'full', parent: 'docs@a0' })))).toBe('INVALID_INPUT');
    expect(codeOf(() => trail.start(attempt('a3', { mode: 'incremental', parent: null })))).toBe('INVALID_INPUT');
    expect(codeOf(() => trail.start(attempt('a4', { startedAt: '2024-05-01' })))).toBe('INVALID_INPUT');
    expect(trail.list().map((e) => e.id)).toEqual(['a1']);
    expect(trail.get('a1')?.status).toBe('running');
  });

  it('clips a long error, keeping head and tail', () => {
    const trail = repo(store);
    trail.start(attempt('a1'));
    const error = 'btrfs send failed\n' + 'x'.repeat(200_000) + '\nERROR: the real reason';
    trail.finish('a1', { status: 'failed', endedAt: '2024-05-01T10:05:00.000Z', bytes: 0, errorCode: 'SEND_FAILED', error });
    const stored = trail.get('a1')?.error ?? '';
    expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(64 * 1024);
    expect(stored.startsWith('btrfs send failed\n')).toBe(true);
    expect(stored.endsWith('\nERROR: the real reason')).toBe(true);
    expect(stored).toMatch(/\[… \d+ bytes cut …\]/);
  });

  it('finds the newest succeeded attempt of a task', () => {
    const trail = repo(store);
    const end = (id: string, status: 'succeeded' | 'failed'): void =>
      trail.finish(id, { status, endedAt: '2024-05-02T00:00:00.000Z', bytes: 1, errorCode: null, error: null });
    expect(trail.lastSucceeded('docs')).toBeUndefined();
    trail.start(attempt('old', { startedAt: '2024-05-01T01:00:00.000Z' }));
    end('old', 'succeeded');
    trail.start(attempt('new', { startedAt: '2024-05-01T02:00:00.000Z' }));
    end('new', 'succeeded');
    trail.start(attempt('newer-failed', { startedAt: '2024-05-01T03:00:00.000Z' }));
    end('newer-failed', 'failed');
    trail.start(attempt('newest-running', { startedAt: '2024-05-01T04:00:00.000Z' }));
    trail.start(attempt('other-task', { task: 'mail', startedAt: '2024-05-01T05:00:00.000Z' }));
    end('other-task', 'succeeded');
    expect(trail.lastSucceeded('docs')?.id).toBe('new');
    expect(trail.lastSucceeded('mail')?.id).toBe('other-task');
    expect(trail.lastSucceeded('none')).toBeUndefined();
  });
});

describe('trail messages', () => {
  it('name the trail as the admin knows it, not its table', () => {
    const store = openStore(':memory:');
    try {
      expect(() => store.sendTrail.finish('no-such-attempt', { status: 'failed', endedAt: '2026-01-01T00:00:00.000Z', bytes: 0, errorCode: null, error: null })).toThrow(
        'the send trail has no attempt no-such-attempt',
      );
    } finally {
      store.close();
    }
  });
});

describe('trail listing', () => {
  let store: Store;
  beforeEach(() => {
    store = openStore(':memory:');
    // Inserted out of time order; s2/s3 and s1/s6 start in the same millisecond (the later insert lists first).
    const rows: [string, Partial<TrailStart>, TrailStatus][] = [
      ['s2', { task: 'docs', share: 'docs', peer: 'p1', startedAt: '2024-05-01T02:00:00.000Z' }, 'failed'],
      ['s1', { task: 'docs', share: 'docs', peer: 'p1', startedAt: '2024-05-01T01:00:00.000Z' }, 'succeeded'],
      ['s3', { task: 'mail', share: 'mail', peer: 'p2', startedAt: '2024-05-01T02:00:00.000Z' }, 'succeeded'],
      ['s4', { task: 'docs', share: 'docs', peer: 'p2', startedAt: '2024-05-01T04:00:00.000Z' }, 'running'],
      ['s5', { task: 'mail', share: 'mail', peer: 'p1', startedAt: '2024-05-01T03:00:00.000Z' }, 'failed'],
      ['s6', { task: 'mail', share: 'mail', peer: 'p1', startedAt: '2024-05-01T01:00:00.000Z' }, 'succeeded'],
    ];
    for (const trail of [store.sendTrail, store.receiveTrail]) {
      for (const [id, over, status] of rows) {
        trail.start(attempt(id, over));
        if (status !== 'running') {
          trail.finish(id, { status, endedAt: '2024-05-01T05:00:00.000Z', bytes: 10, errorCode: null, error: null });
        }
      }
    }
  });
  afterEach(() => store.close());

  it.each<{ name: string; filter: Parameters<Store['sendTrail']['list']>[0]; ids: string[] }>([
    { name: 'all, newest first', filter: undefined, ids: ['s4', 's5', 's3', 's2', 's6', 's1'] },
    { name: 'empty filter', filter: {}, ids: ['s4', 's5', 's3', 's2', 's6', 's1'] },
    { name: 'task', filter: { task: 'docs' }, ids: ['s4', 's2', 's1'] },
    { name: 'status', filter: { status: 'failed' }, ids: ['s5', 's2'] },
    { name: 'task and status', filter: { task: 'mail', status: 'succeeded' }, ids: ['s3', 's6'] },
    { name: 'limit', filter: { limit: 2 }, ids: ['s4', 's5'] },
    { name: 'task and limit', filter: { task: 'docs', limit: 1 }, ids: ['s4'] },
    { name: 'limit 0', filter: { limit: 0 }, ids: [] },
    { name: 'no match', filter: { task: 'none' }, ids: [] },
    { name: 'since (inclusive)', filter: { since: '2024-05-01T02:00:00.000Z' }, ids: ['s4', 's5', 's3', 's2'] },
    { name: 'until (exclusive)', filter: { until: '2024-05-01T02:00:00.000Z' }, ids: ['s6', 's1'] },
    { name: 'time window and task', filter: { task: 'mail', since: '2024-05-01T01:30:00Z', until: '2024-05-01T04:00:00.000Z' }, ids: ['s5', 's3'] },
    { name: 'page after s5', filter: { before: 's5', limit: 2 }, ids: ['s3', 's2'] },
    { name: 'page after s3: its twin of the same millisecond next', filter: { before: 's3', limit: 2 }, ids: ['s2', 's6'] },
    { name: 'page after the last', filter: { before: 's1' }, ids: [] },
    { name: 'page with a task and status', filter: { task: 'docs', status: 'succeeded', before: 's4' }, ids: ['s1'] },
  ])('send trail: $name', ({ filter, ids }) => {
    expect(store.sendTrail.list(filter).map((e: SendTrailEntry) => e.id)).toEqual(ids);
  });

  it.each<{ name: string; filter: Parameters<Store['receiveTrail']['list']>[0]; ids: string[] }>([
    { name: 'all, newest first', filter: undefined, ids: ['s4', 's5', 's3', 's2', 's6', 's1'] },
    { name: 'peer', filter: { peer: 'p1' }, ids: ['s5', 's2', 's6', 's1'] },
    { name: 'share', filter: { share: 'mail' }, ids: ['s5', 's3', 's6'] },
    { name: 'peer and share', filter: { peer: 'p2', share: 'docs' }, ids: ['s4'] },
    { name: 'status', filter: { status: 'running' }, ids: ['s4'] },
    { name: 'peer, share and status', filter: { peer: 'p1', share: 'docs', status: 'succeeded' }, ids: ['s1'] },
    { name: 'peer and limit', filter: { peer: 'p1', limit: 2 }, ids: ['s5', 's2'] },
  ])('receive trail: $name', ({ filter, ids }) => {
    expect(store.receiveTrail.list(filter).map((e: ReceiveTrailEntry) => e.id)).toEqual(ids);
  });

  it('pages through the whole trail without a gap or a repeat', () => {
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = store.sendTrail.list({ limit: 4, ...(before ? { before } : {}) });
      seen.push(...page.map((e) => e.id));
      if (page.length < 4) break;
      before = page.at(-1)?.id;
    }
    expect(seen).toEqual(store.sendTrail.list().map((e) => e.id));
  });

  it('refuses a page cursor it does not hold, and a time that is not one', () => {
    expect(codeOf(() => store.sendTrail.list({ before: 'nope' }))).toBe('NOT_FOUND');
    expect(codeOf(() => store.receiveTrail.list({ since: 'yesterday' }))).toBe('INVALID_INPUT');
  });

  it.each([-1, 1.5])('refuses limit %s', (limit) => {
    expect(codeOf(() => store.sendTrail.list({ limit }))).toBe('INVALID_INPUT');
    expect(codeOf(() => store.receiveTrail.list({ limit }))).toBe('INVALID_INPUT');
  });
});

describe('receive trail replica path', () => {
  it('starts null, is set by finish, and is null when finish leaves it out', () => {
    const store = openStore(':memory:');
    const done = { status: 'succeeded', endedAt: '2024-05-01T10:06:00.000Z', bytes: 1, errorCode: null, error: null } as const;
    store.receiveTrail.start(attempt('a1'));
    store.receiveTrail.start(attempt('a2'));
    expect(store.receiveTrail.get('a1')?.replicaPath).toBeNull();
    store.receiveTrail.finish('a1', { ...done, replicaPath: '/mnt/tank/peer-b/docs/docs@a1' });
    store.receiveTrail.finish('a2', done);
    expect(store.receiveTrail.get('a1')?.replicaPath).toBe('/mnt/tank/peer-b/docs/docs@a1');
    expect(store.receiveTrail.get('a2')?.replicaPath).toBeNull();
    store.close();
  });
});

describe('markRunningInterrupted', () => {
  it('turns running entries on both trails into interrupted after a crash, and leaves finished ones alone', () => {
    const path = join(dir, 'ferry.db');
    const before = openStore(path);
    const done = { status: 'succeeded', endedAt: '2024-05-01T10:06:00.000Z', bytes: 7, errorCode: null, error: null } as const;
    before.sendTrail.start(attempt('run1'));
    before.sendTrail.progress('run1', 123);
    before.sendTrail.start(attempt('run2'));
    before.sendTrail.start(attempt('done1'));
    before.sendTrail.finish('done1', done);
    before.receiveTrail.start(attempt('run3'));
    before.receiveTrail.start(attempt('done2'));
    before.receiveTrail.finish('done2', { ...done, status: 'failed', errorCode: 'RECEIVE_FAILED', error: 'no' });
    before.close(); // the process "crashes" with attempts still running

    const store = openStore(path);
    const now = new Date('2024-05-01T11:00:00.000Z');
    expect(store.markRunningInterrupted(now)).toEqual({ send: 2, receive: 1 });

    for (const e of [store.sendTrail.get('run1'), store.sendTrail.get('run2'), store.receiveTrail.get('run3')]) {
      expect(e).toMatchObject({ status: 'interrupted', endedAt: now.toISOString(), errorCode: 'INTERRUPTED' });
      expect(e?.error).toBeTruthy();
    }
    expect(store.sendTrail.get('run1')?.bytes).toBe(123);
    expect(store.sendTrail.get('done1')).toMatchObject({ status: 'succeeded', endedAt: done.endedAt, errorCode: null, error: null });
    expect(store.receiveTrail.get('done2')).toMatchObject({ status: 'failed', endedAt: done.endedAt, errorCode: 'RECEIVE_FAILED' });

    expect(store.markRunningInterrupted(now)).toEqual({ send: 0, receive: 0 });
    store.close();
  });
});

describe('trail pruning', () => {
  const now = new Date('2026-06-01T00:00:00.000Z');
  const daysAgo = (d: number, extraMs = 0): string => new Date(now.getTime() - d * 86_400_000 + extraMs).toISOString();
  const done = { status: 'succeeded', endedAt: '2026-06-01T00:00:00.000Z', bytes: 1, errorCode: null, error: null } as const;

  it('keeps the newest N per task and the last D days, never a running entry, on both trails', () => {
    const store = openStore(':memory:');
    try {
      // docs: 5 recent entries; mail: 2 entries, one of them old; an old running entry of docs.
      for (let i = 0; i < 5; i++) {
        store.sendTrail.start(attempt(`d${i}`, { task: 'docs', startedAt: daysAgo(1, i) }));
        store.sendTrail.finish(`d${i}`, done);
      }
      store.sendTrail.start(attempt('m-old', { task: 'mail', startedAt: daysAgo(90) }));
      store.sendTrail.finish('m-old', done);
      store.sendTrail.start(attempt('m-new', { task: 'mail', startedAt: daysAgo(2) }));
      store.sendTrail.finish('m-new', done);
      store.sendTrail.start(attempt('r-old', { task: 'docs', startedAt: daysAgo(120) }));
      const limits = { keepDays: 30, keepPerTask: 3 };
      expect(store.sendTrail.beyond(limits, now)).toBe(3);
      expect(store.sendTrail.prune(limits, now)).toBe(3);
      expect(store.sendTrail.list().map((e) => e.id).sort()).toEqual(['d2', 'd3', 'd4', 'm-new', 'r-old']);
      expect(store.sendTrail.prune(limits, now)).toBe(0);

      // The receive trail counts per peer and task.
      for (const peer of ['p1', 'p2']) {
        for (let i = 0; i < 3; i++) {
          store.receiveTrail.start(attempt(`${peer}-${i}`, { peer, task: 'docs', startedAt: daysAgo(1, i) }));
          store.receiveTrail.finish(`${peer}-${i}`, done);
        }
      }
      expect(store.receiveTrail.prune({ keepDays: 30, keepPerTask: 2 }, now)).toBe(2);
      expect(store.receiveTrail.list().map((e) => e.id).sort()).toEqual(['p1-1', 'p1-2', 'p2-1', 'p2-2']);
    } finally {
      store.close();
    }
  });
});
