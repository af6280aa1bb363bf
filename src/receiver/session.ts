// The stream of an admitted transfer: into its jail through the byte counter
// (progress, quota), the whole-stream check (src/btrfs/stream-guard.ts) and
// `btrfs receive`, under the transfer's deadline; then whatever the stream
// made outside its subvolume is looked for, and only a clean subvolume goes
// on to its commit. A failed stream's jail is deleted with all in it.

import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StreamGuard } from '../btrfs/index.js';
import { FerryError, toFerryError } from '../domain/errors.js';
import { formatDuration } from '../domain/names.js';
import type { TransferReceipt } from '../domain/transfer.js';
import { ByteCounter, formatBytes } from '../util/bytes.js';
import { commit, discardJail, type CommitDeps } from './commit.js';
import { checkJail, jailOf, makeJail } from './jail.js';
import { deadlineMs, type TransferDeadline } from './limits.js';
import { makeReplicaDir } from './paths.js';
import type { PendingTransfer } from './pending.js';
import { checkHead, isStreamRefusal } from './stream-checks.js';

export interface SessionDeps extends CommitDeps {
  readonly deadline: TransferDeadline;
  /** Bytes received so far (the trail, a restore's progress). */
  readonly onProgress: (pending: PendingTransfer, bytes: number) => void;
}

/** Receives the stream of an opened transfer and commits it; rejects with why it was not. `bytes` says how far it came either way. */
export async function receiveStream(d: SessionDeps, pending: PendingTransfer, stream: Readable, callerSignal: AbortSignal, counted: (bytes: number) => void): Promise<TransferReceipt> {
  const { request, pool, quotaLeft, dir } = pending;
  const jail = jailOf(dir, pending.id);
  const { signal, stop } = withDeadline(callerSignal, request.sizeEstimate, d.deadline);
  const counter = new ByteCounter({
    onProgress: (bytes) => d.onProgress(pending, bytes),
    ...(quotaLeft === null
      ? {}
      : { limit: { bytes: quotaLeft, error: () => new FerryError('QUOTA_EXCEEDED', `the stream passed this peer's quota on pool '${pool.name}' after ${formatBytes(quotaLeft)}`) } }),
  });
  const guard = new StreamGuard({
    stagingName: jail.name,
    checkHead: (head) => checkHead(head, request),
    // The parent was resolved to this chain's own replica at admission.
    rules: { cloneSources: new Set([request.snapshotUuid, ...(request.parent ? [request.parent.uuid] : [])]) },
    // btrfs receive opens a clone's source from the mount root, outside the jail: no link on its way in the parent.
    ...(pending.parentPath && request.parent ? { linkFree: new Map([[request.parent.uuid, pending.parentPath]]) } : {}),
  });
  let made = false;
  try {
    if (!pending.restore) await makeReplicaDir(dir);
    await makeJail(jail);
    made = true;
    const { input, done } = d.btrfs.receive({ dir: jail.dir, signal });
    // Both must succeed: a stream that errored may still have let `btrfs
    // receive` exit 0 at a command boundary (the false success of Rockstor #2215).
    const [piped, received] = await Promise.allSettled([pipeline(stream, counter, guard, input, { signal }), done]);
    // Pass or fail, what the stream made outside its subvolume refuses it first.
    await checkJail(d.btrfs, jail);
    if (piped.status === 'rejected') throw piped.reason;
    if (received.status === 'rejected') throw received.reason;
    return await commit(d, pending, jail, received.value.name, counter.bytes);
  } catch (thrown) {
    // An abort's own reason (a stall, the sender's cancel, an unpairing) says more than the AbortError it caused.
    const err = signal.aborted && signal.reason instanceof FerryError && !isStreamRefusal(thrown) ? signal.reason : toFerryError(thrown);
    if (made) await discardJail(d, jail.dir);
    throw err;
  } finally {
    counted(counter.bytes);
    stop();
  }
}

/** The caller's signal, aborted also when the stream runs past its deadline (TRANSFER_DEADLINE). */
function withDeadline(signal: AbortSignal, size: number | null, deadline: TransferDeadline): { signal: AbortSignal; stop: () => void } {
  const ms = deadlineMs(size, deadline);
  if (ms === null) return { signal, stop: () => undefined };
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new FerryError('TRANSFER_DEADLINE', `the transfer, announced at ${formatBytes(size ?? 0)}, ran past its deadline of ${formatDuration(Math.ceil(ms / 1000))} here`));
  }, ms);
  timer.unref();
  return { signal: AbortSignal.any([signal, controller.signal]), stop: () => clearTimeout(timer) };
}
