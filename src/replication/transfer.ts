// One transfer's stream, in either direction: open it on the receiving end,
// start the source once it is open, pump the source through the byte counter
// into the receiver, and settle both ends before saying how it went. A
// replication attempt (./driver.ts) and a restore's send (src/daemon/
// restores.ts) both go through here, so whatever the stream path gains
// (resume, compression, bandwidth limits) holds for both; ./retry-policy.ts
// says how often either tries again.

import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TransferReceipt, TransferRequest } from '../domain/transfer.js';
import type { ByteCounter } from '../util/bytes.js';
import type { ReceiverEndpoint } from './endpoints.js';
import { isConsequence, streamSignal } from './endings.js';

export interface Carriage {
  readonly receiver: Pick<ReceiverEndpoint, 'open' | 'transfer' | 'drop'>;
  readonly request: TransferRequest;
  /** The send stream, asked for once the transfer is open (a last check may refuse it there). */
  readonly source: (signal: AbortSignal) => Readable | Promise<Readable>;
  /** Counts the bytes on their way: what the receiver reads. */
  readonly counter: ByteCounter;
  readonly signal: AbortSignal;
  /** Told the transfer's id once it is open. */
  readonly onOpen?: (transferId: string) => void;
}

export async function carry(c: Carriage): Promise<TransferReceipt> {
  const { receiver, counter, signal } = c;
  const { transferId } = await receiver.open(c.request, signal);
  c.onOpen?.(transferId);
  const streaming = streamSignal(signal);
  let source: Readable;
  try {
    source = await c.source(streaming);
  } catch (err) {
    // Refused before any byte: the receiver's open transfer ends now, not at its expiry.
    await receiver.drop?.(transferId, err).catch(() => undefined);
    throw err;
  }
  // The counter is what the receiver reads (one stage less for every read of
  // the pipe). The pipeline settles when the counter has taken the last
  // byte; the receiver's own result says the rest.
  const pumping = pipeline(source, counter, { signal: streaming });
  // Wait for both ends to settle, so the transfer ends only after the
  // receiver has cleaned up; report the sending side's error first, as it is
  // the cause when both fail.
  const [received, pumped] = await Promise.allSettled([receiver.transfer(transferId, counter, signal), pumping]);
  if (pumped.status === 'rejected' && !(received.status === 'rejected' && isConsequence(pumped.reason))) throw pumped.reason;
  if (received.status === 'rejected') throw received.reason;
  return received.value;
}
