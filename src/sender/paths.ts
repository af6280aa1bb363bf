import path from 'node:path';
import type { Task } from '../domain/task.js';

/**
 * Where a restore with no task behind it (the task was removed, the appliance
 * rebuilt) receives the replica: beside the target, so that the writable share
 * can be a snapshot of it. A task name cannot start with '.', so no task's
 * directory is ever this one.
 */
export function restoredSnapshotDir(target: string, share: string): string {
  return path.join(path.dirname(target), '.ferry-snapshots', share, '.restored');
}

/**
 * Where a task keeps its snapshots: beside the share, never inside it (a
 * snapshot nested in the share would show up as an empty directory in every
 * later snapshot of it), and one folder per task, so that two tasks sending
 * one share to different peers never prune each other's parents (syncoid #57).
 */
export function taskSnapshotDir(task: Pick<Task, 'sharePath' | 'share' | 'name'>): string {
  return path.join(path.dirname(task.sharePath), '.ferry-snapshots', task.share, task.name);
}
