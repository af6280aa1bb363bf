// Moving a received, read-only subvolume into another directory. A rename
// cannot: the kernel must rewrite the moved directory's "..", which a
// read-only subvolume refuses (EROFS, root included), and making it writable
// first clears its received UUID (`btrfs property set -f ... ro false`), the
// identity incremental sends are built on. So it leaves as a snapshot, which
// copies no data, made by `btrfs receive` from a two-command stream of
// Ferry's own: "a snapshot, as <received UUID>, of the subvolume received as
// <received UUID>", then the end. receive finds the source by its received
// UUID, snapshots it into the directory, and gives the new subvolume the same
// received UUID and the read-only flag.

import { FerryError } from '../domain/errors.js';
import type { BtrfsContext } from './context.js';
import { receive } from './send-receive.js';
import { Attr, Cmd, MAGIC, STREAM_HEADER, encodeCommand, u64, uuidBytes } from './stream-format.js';

export interface RehomeRequest {
  /** The received UUID of the subvolume to move; it must be the only subvolume received as it. */
  readonly receivedUuid: string;
  /** Its generation, for the stream's transids (receive does not match them). */
  readonly generation: number;
  /** The directory the new subvolume is made in, and its name there. */
  readonly dir: string;
  readonly name: string;
  readonly signal?: AbortSignal;
}

/** The stream that snapshots the subvolume received as `receivedUuid` to `name`, as the same received UUID. */
export function rehomeStream(request: Pick<RehomeRequest, 'receivedUuid' | 'generation' | 'name'>): Buffer {
  const header = Buffer.alloc(STREAM_HEADER);
  MAGIC.copy(header);
  header.writeUInt32LE(1, MAGIC.length);
  const uuid = uuidBytes(request.receivedUuid);
  const snapshot = encodeCommand(Cmd.SNAPSHOT, [
    [Attr.PATH, Buffer.from(request.name)],
    [Attr.UUID, uuid],
    [Attr.CTRANSID, u64(request.generation)],
    [Attr.CLONE_UUID, uuid],
    [Attr.CLONE_CTRANSID, u64(request.generation)],
  ]);
  return Buffer.concat([header, snapshot, encodeCommand(Cmd.END, [])]);
}

export async function rehome(ctx: BtrfsContext, request: RehomeRequest): Promise<void> {
  const { input, done } = receive(ctx, { dir: request.dir, ...(request.signal ? { signal: request.signal } : {}) });
  input.end(rehomeStream(request));
  const { name } = await done;
  if (name !== request.name) throw new FerryError('RECEIVED_MISMATCH', `moving a received subvolume made '${name}', expected '${request.name}'`);
}
