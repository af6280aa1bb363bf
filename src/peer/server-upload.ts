// The stream upload (PUT /transfers/{id}/stream): the body is the raw request
// stream, read by nobody but this handler. The stream header must match the
// signed digest, the transfer opened and the salt issued; then the sealed
// chunks are opened as they come and handed to the receiver, under a stall
// and rate-floor watch, and any abort (stall, unpairing, disconnect, stop)
// ends the stream the receiver reads.

import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProtocolError } from '../../proto/errors.js';
import { TRANSFER_ID_PATTERN } from '../../proto/frame.js';
import type { Receipt } from '../../proto/messages.js';
import { bodyDigest } from '../../proto/signing.js';
import { createOpener, receiverStreamKey, type Identity } from '../crypto/index.js';
import { FerryError, toFerryError } from '../domain/errors.js';
import type { TransferReceipt } from '../domain/transfer.js';
import type { Logger } from '../log/logger.js';
import { abortReason } from '../util/backoff.js';
import { fromProtocolError } from './errors.js';
import type { ReceiverPort } from './ports.js';
import type { RequestAuth } from './server-auth.js';
import { unixNow } from './signing.js';
import type { IssuedTransfer, TransferTable } from './transfers.js';
import { feed, readStreamHeader, watchStall, type RateFloor } from './upload.js';

export interface UploadOptions {
  readonly identity: Identity;
  readonly receiver: ReceiverPort;
  readonly auth: RequestAuth;
  readonly table: TransferTable;
  readonly clock: () => number;
  readonly stallTimeoutMs: number;
  readonly rateFloor: RateFloor;
  readonly logger: Logger;
  /** Tells the receiver a transfer it opened will not come. */
  readonly dropIssued: (issued: IssuedTransfer, reason: FerryError) => void;
}

/** The route's handler; it answers the Receipt of the committed replica, or throws the refusal. */
export function uploadHandler(options: UploadOptions): (request: FastifyRequest, reply: FastifyReply) => Promise<Receipt> {
  const { identity, receiver, table, clock, stallTimeoutMs, rateFloor, logger, dropIssued } = options;
  const { verifiedPeer } = options.auth;
  return async function upload(request: FastifyRequest, reply: FastifyReply): Promise<Receipt> {
    const { peer, signed } = verifiedPeer(request);
    const transferId = transferIdParam(request);
    const raw = request.raw;
    // The body is ours from here (no parser reads it): a sender that goes away must not become an uncaught error.
    raw.on('error', () => undefined);
    const issued = table.take(peer.id, transferId);
    if (!issued) {
      throw new FerryError('TRANSFER_NOT_FOUND', `no open transfer ${transferId} of this peer (unknown, expired, or uploaded already)`);
    }
    const controller = new AbortController();
    const { signal } = controller;
    const untrack = table.startUpload(peer.id, transferId, controller);
    const abort = (message: string): void => {
      if (!signal.aborted) controller.abort(new FerryError('ABORTED', message));
    };
    const onClose = (): void => {
      if (!reply.raw.writableFinished) abort('the sender disconnected');
    };
    reply.raw.on('close', onClose);

    let received = 0;
    let opener: ReturnType<typeof createOpener> | null = null;
    const stopWatch = watchStall({
      timeoutMs: stallTimeoutMs,
      floor: rateFloor,
      progress: () => received + (opener?.bytesIn ?? 0),
      busy: () => raw.readableLength > 0 || (opener !== null && (opener.writableNeedDrain || opener.writableLength > 0)),
      onStall: abort,
    });
    let detach: (() => void) | null = null;
    let handedOver = false;
    try {
      if (issued.expiresAt < unixNow(clock)) throw new FerryError('TRANSFER_NOT_FOUND', `transfer ${transferId} expired before its upload`);
      const { header, bytes, rest } = await readStreamHeader(raw, signal, (n) => (received += n));
      if (bodyDigest(bytes) !== signed.digest) throw new ProtocolError('DIGEST_MISMATCH', 'the stream header does not match the signed digest');
      if (header.transferId !== transferId) throw new FerryError('BAD_STREAM', 'the stream header names another transfer');
      if (header.salt.length !== issued.salt.length || !timingSafeEqual(header.salt, issued.salt)) {
        throw new FerryError('BAD_STREAM', 'the stream header carries another salt than the one issued');
      }
      let key: Uint8Array;
      try {
        key = receiverStreamKey({
          receiverBox: identity.box,
          senderBoxPublicKey: peer.boxPublicKey,
          ephemeralPublicKey: header.ephemeralPublicKey,
          salt: header.salt,
          transferId,
        });
      } catch (cause) {
        throw new FerryError('BAD_STREAM', 'the stream header carries an unusable ephemeral key', { cause });
      }
      const plaintext = createOpener(key, { header: bytes, chunkSize: header.chunkSize, headerIncluded: false });
      key.fill(0);
      opener = plaintext;
      plaintext.on('error', () => detach?.());
      // Whatever the receiver does with the signal, the stream it reads ends with the abort.
      const stop = (): void => {
        plaintext.destroy(toFerryError(abortReason(signal)));
      };
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
      detach = feed(raw, plaintext, rest, (err) => {
        abort('the sender disconnected');
        plaintext.destroy(new FerryError('ABORTED', `the upload broke off: ${err.message}`));
      });
      handedOver = true;
      const receipt = await receiver.transfer(peer.id, transferId, plaintext, signal);
      logger.info('transfer received', { peer: peer.id, transferId, attemptId: receipt.attemptId, bytes: receipt.bytes });
      return { transferId, ...pick(receipt) };
    } catch (thrown) {
      // An abort (stall, unpairing, disconnect) explains the failure better than what it caused downstream.
      const err = signal.aborted ? toFerryError(abortReason(signal)) : thrown;
      if (!handedOver) dropIssued(issued, err instanceof ProtocolError ? fromProtocolError(err) : toFerryError(err));
      detach?.();
      throw err;
    } finally {
      stopWatch();
      untrack();
      reply.raw.off('close', onClose);
    }
  };
}

/** The transfer id of the path, checked. */
export function transferIdParam(request: FastifyRequest): string {
  const id = (request.params as { transferId?: unknown }).transferId;
  if (typeof id !== 'string' || !TRANSFER_ID_PATTERN.test(id)) throw new ProtocolError('INVALID_INPUT', 'the transfer id in the path is malformed');
  return id;
}

function pick(receipt: TransferReceipt): Omit<Receipt, 'transferId'> {
  return {
    attemptId: receipt.attemptId,
    snapshot: receipt.snapshot,
    receivedUuid: receipt.receivedUuid,
    bytes: receipt.bytes,
    replicaPath: receipt.replicaPath,
    retention: receipt.retention === null ? null : receipt.retention.slice(0, 4096),
  };
}
