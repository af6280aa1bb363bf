// Subvolume and filesystem operations that run btrfs to completion.

import { lstat, statfs } from 'node:fs/promises';
import { FerryError, toFerryError } from '../domain/errors.js';
import { runBtrfs } from './command.js';
import type { BtrfsContext } from './context.js';
import { parseFreeEstimated, parseSubvolumeList, parseSubvolumeShow } from './parse.js';
import type { SubvolumeInfo, SubvolumeListing } from './types.js';

const BTRFS_SUPER_MAGIC = 0x9123683e;
/** Inode number of every subvolume's root directory (BTRFS_FIRST_FREE_OBJECTID). */
const SUBVOLUME_ROOT_INODE = 256;

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

// Every path goes after `--` so that a name starting with '-' can never be
// read as an option.

export async function show(ctx: BtrfsContext, path: string, signal?: AbortSignal): Promise<SubvolumeInfo> {
  const { stdout } = await runBtrfs(['subvolume', 'show', '--', path], { ...ctx, failure: 'BTRFS_COMMAND_FAILED', refine: 'all', signal });
  return parseSubvolumeShow(stdout, path);
}

/**
 * The same test btrfs-progs makes (a btrfs directory whose inode is 256),
 * without spawning: `children` asks it of every entry of a directory.
 */
export async function isSubvolume(path: string): Promise<boolean> {
  try {
    const stat = await lstat(path);
    if (!stat.isDirectory() || stat.ino !== SUBVOLUME_ROOT_INODE) return false;
    const fs = await statfs(path);
    return fs.type === BTRFS_SUPER_MAGIC;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return false;
    throw toFerryError(err);
  }
}

export async function create(ctx: BtrfsContext, path: string): Promise<void> {
  await runBtrfs(['subvolume', 'create', '--', path], { ...ctx, failure: 'BTRFS_COMMAND_FAILED', refine: 'all' });
}

export async function snapshot(ctx: BtrfsContext, source: string, dest: string, options: { readOnly: boolean }): Promise<void> {
  // Given an existing directory as dest, btrfs would quietly put the snapshot
  // inside it under the source's name; Ferry always names the exact path.
  if (await pathExists(dest)) {
    throw new FerryError('ALREADY_EXISTS', `Cannot snapshot ${source} to ${dest}: ${dest} exists already.`);
  }
  const args = ['subvolume', 'snapshot', ...(options.readOnly ? ['-r'] : []), '--', source, dest];
  await runBtrfs(args, { ...ctx, failure: 'SNAPSHOT_FAILED', refine: 'all' });
}

export async function deleteSubvolume(ctx: BtrfsContext, path: string): Promise<void> {
  await runBtrfs(['subvolume', 'delete', '--', path], { ...ctx, failure: 'BTRFS_COMMAND_FAILED', refine: 'all' });
}

/** Every subvolume of the filesystem that holds `path`, with its UUIDs (one tree search, however many there are). */
export async function listAll(ctx: BtrfsContext, path: string, signal?: AbortSignal): Promise<SubvolumeListing[]> {
  const { stdout } = await runBtrfs(['subvolume', 'list', '-u', '-q', '-R', '--', path], { ...ctx, failure: 'BTRFS_COMMAND_FAILED', refine: 'all', signal });
  return parseSubvolumeList(stdout);
}

export async function setReadOnly(ctx: BtrfsContext, path: string, readOnly: boolean): Promise<void> {
  // No `-f`: making a received subvolume writable clears its received UUID,
  // which silently breaks the parent chain (Rockstor #2902). btrfs refuses,
  // and so does Ferry; promote a replica by a writable snapshot instead.
  await runBtrfs(['property', 'set', '-ts', '--', path, 'ro', String(readOnly)], {
    ...ctx,
    failure: 'BTRFS_COMMAND_FAILED',
    refine: 'all',
  });
}

export async function sync(ctx: BtrfsContext, path: string): Promise<void> {
  // Deleted subvolumes are cleaned only after a transaction commit; without
  // forcing one, `subvolume sync` waits out the 30 s commit interval.
  await runBtrfs(['filesystem', 'sync', '--', path], { ...ctx, failure: 'BTRFS_COMMAND_FAILED', refine: 'all' });
  await runBtrfs(['subvolume', 'sync', '--', path], { ...ctx, failure: 'BTRFS_COMMAND_FAILED', refine: 'all' });
}

export async function freeBytes(ctx: BtrfsContext, path: string): Promise<number> {
  const { stdout } = await runBtrfs(['filesystem', 'usage', '-b', '--', path], { ...ctx, failure: 'BTRFS_COMMAND_FAILED', refine: 'all' });
  return parseFreeEstimated(stdout);
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw toFerryError(err);
  }
}
