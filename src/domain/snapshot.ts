// What the planner and retention know of snapshots and replicas: names and
// UUIDs only, so they stay pure and need no btrfs.

/** A read-only snapshot of a share on the sending side. */
export interface LocalSnapshot {
  readonly name: string;
  readonly uuid: string;
  /** The UUID of the subvolume it was taken of (its parent UUID): the share it belongs to. */
  readonly sourceUuid?: string | null;
  /**
   * Set for a base: a replica the task's share was promoted from, outside the
   * task's snapshot directory. It may be a parent; it is never deleted by the
   * task (it is a replica, the receiving side's).
   */
  readonly basePath?: string;
}

/** A replica the receiver holds for a share: its name and received UUID. */
export interface Replica {
  readonly name: string;
  readonly receivedUuid: string;
}
