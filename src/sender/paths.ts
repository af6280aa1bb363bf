import path from 'node:path';
import type { Task } from '../domain/task.js';

/**
 * Where a task keeps its snapshots: beside the share, never inside it (a
 * snapshot nested in the share would show up as an empty directory in every
 * later snapshot of it), and one folder per task, so that two tasks sending
 * one share to different peers never prune each other's parents (syncoid #57).
 */
export function taskSnapshotDir(task: Pick<Task, 'sharePath' | 'share' | 'name'>): string {
  return path.join(path.dirname(task.sharePath), '.ferry-snapshots', task.share, task.name);
}
