// The sending appliance's end of a transfer: the task's snapshots and `btrfs send`.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Btrfs } from '../btrfs/index.js';
import { FerryError } from '../domain/errors.js';
import { assessPool, type HealthFinding } from '../domain/health.js';
import { isSnapshotName } from '../domain/names.js';
import type { LocalSnapshot } from '../domain/snapshot.js';
import type { Task } from '../domain/task.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { taskSnapshotDir } from './paths.js';

/** A replica a task's share was promoted from, by name, identity (its received UUID) and path. */
export interface Base {
  readonly name: string;
  readonly identity: string;
  readonly path: string;
}

export class Sender {
  readonly #btrfs: Btrfs;
  readonly #logger: Logger;
  readonly #bases: (task: Task) => readonly Base[];

  constructor(deps: { btrfs: Btrfs; logger?: Logger; bases?: (task: Task) => readonly Base[] }) {
    this.#btrfs = deps.btrfs;
    this.#logger = deps.logger ?? silentLogger;
    this.#bases = deps.bases ?? (() => []);
  }

  /**
   * The snapshots in a directory, oldest first. Only read-only subvolumes
   * named like our snapshots count: a writable one or a stray folder was not
   * made by a run (or a restore) and must not become a parent.
   */
  async snapshotsIn(dir: string): Promise<LocalSnapshot[]> {
    return (await this.#btrfs.children(dir))
      .filter((c) => c.readOnly && isSnapshotName(c.name))
      // A snapshot's identity is its received UUID when it has one (a restored
      // snapshot), else its UUID: what btrfs send names it by as a parent.
      .map((c) => ({ name: c.name, uuid: c.receivedUuid ?? c.uuid, sourceUuid: c.parentUuid }))
      .sort(byName);
  }

  async listSnapshots(task: Task): Promise<LocalSnapshot[]> {
    const own = await this.snapshotsIn(taskSnapshotDir(task));
    // A promoted share's base replica, while it is still there, read-only, carrying its identity.
    const bases: LocalSnapshot[] = [];
    for (const base of this.#bases(task)) {
      if (own.some((s) => s.name === base.name || s.uuid === base.identity)) continue;
      const info = await this.#btrfs.show(base.path).catch(() => null);
      if (info?.readOnly && (info.receivedUuid ?? info.uuid) === base.identity) bases.push({ name: base.name, uuid: base.identity, basePath: base.path });
    }
    return [...own, ...bases].sort(byName);
  }

  #baseOf(task: Task, name: string): Base | undefined {
    return this.#bases(task).find((b) => b.name === name);
  }

  /** The task's own snapshot of that name, else the base of that name (listSnapshots offers a base only when no own snapshot shares its name). */
  #parentPath(task: Task, dir: string, name: string): string {
    const own = path.join(dir, name);
    return existsSync(own) ? own : (this.#baseOf(task, name)?.path ?? own);
  }

  async shareIdentity(task: Task): Promise<{ uuid: string; origin: string | null }> {
    await this.#mustExist(task);
    const share = await this.#btrfs.show(task.sharePath);
    if (share.parentUuid === null) return { uuid: share.uuid, origin: null };
    // A share made as a writable snapshot (restored, promoted): the identity of what it was made from.
    const made = (await this.#btrfs.listAll(task.sharePath)).find((s) => s.uuid === share.parentUuid);
    return { uuid: share.uuid, origin: made ? (made.receivedUuid ?? made.uuid) : null };
  }

  async #mustExist(task: Task): Promise<void> {
    if (!(await this.#btrfs.isSubvolume(task.sharePath))) {
      throw new FerryError('SHARE_MISSING', `share ${task.sharePath} is not a btrfs subvolume (or does not exist)`);
    }
  }

  async takeSnapshot(task: Task, name: string): Promise<LocalSnapshot> {
    await this.#mustExist(task);
    const dir = taskSnapshotDir(task);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const dest = path.join(dir, name);
    await this.#btrfs.snapshot(task.sharePath, dest, { readOnly: true });
    const info = await this.#btrfs.show(dest);
    this.#logger.info('snapshot taken', { task: task.name, snapshot: name, uuid: info.uuid });
    return { name, uuid: info.uuid, sourceUuid: info.parentUuid };
  }

  send(task: Task, snapshot: string, parent: string | null, signal: AbortSignal): Readable {
    const dir = taskSnapshotDir(task);
    // The adapter's stream ends only once `btrfs send` exited 0, and errors
    // otherwise: a cut stream never reaches the receiver as a whole one.
    const { stream, done } = this.#btrfs.send({
      path: path.join(dir, snapshot),
      ...(parent === null ? {} : { parent: this.#parentPath(task, dir, parent) }),
      signal,
    });
    // The stream reports the failure; `done` would only repeat it.
    done.catch(() => undefined);
    return stream;
  }

  estimate(task: Task, snapshot: string, parent: string | null, signal: AbortSignal): Promise<number> {
    const dir = taskSnapshotDir(task);
    return this.#btrfs.estimateSend({ path: path.join(dir, snapshot), parent: parent === null ? undefined : this.#parentPath(task, dir, parent), signal });
  }

  /** The health of the pool holding the share (the share's parent directory is on it). */
  async poolHealth(task: Task): Promise<HealthFinding[]> {
    return assessPool('source', await this.#btrfs.poolHealth(path.dirname(task.sharePath)));
  }

  async deleteSnapshots(task: Task, names: readonly string[]): Promise<void> {
    const dir = taskSnapshotDir(task);
    for (const name of names) {
      if (!isSnapshotName(name)) throw new FerryError('INVALID_NAME', `'${name}' is not a snapshot name`);
      // A base is a replica: the receiving side's to keep or prune, never the task's.
      if (this.#baseOf(task, name) && !(await this.#btrfs.isSubvolume(path.join(dir, name)))) continue;
      await this.#btrfs.delete(path.join(dir, name));
      this.#logger.info('snapshot deleted', { task: task.name, snapshot: name });
    }
  }
}

function byName(a: { readonly name: string }, b: { readonly name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
