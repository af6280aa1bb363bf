// Per-transfer stream keys (layout in proto/frame.ts, KEY). Two X25519 agreements
// go into HKDF: ephemeral-static gives a key no earlier transfer shares, even if
// the static keys are later stolen together with a recorded stream; static-static
// authenticates the sender, since only the holder of the paired static secret can
// derive it. The receiver-chosen salt and the transfer id go in too, so a chunk
// spliced from any other transfer fails to open.

import { hkdfSync, timingSafeEqual } from 'node:crypto';
import nacl from 'tweetnacl';
import { FerryError } from '../domain/errors.js';
import { SALT_LENGTH, STREAM_KEY_LENGTH, streamKeyInfo } from '../../proto/frame.js';
import { checkLength, type KeyPair } from './identity.js';

// The wire's definitions, for this layer's users.
export { SALT_LENGTH, STREAM_KEY_LENGTH, streamKeyInfo };


export interface SenderKeyInput {
  /** The sender's static X25519 key pair. */
  readonly senderBox: KeyPair;
  readonly receiverBoxPublicKey: Uint8Array;
  readonly salt: Uint8Array;
  readonly transferId: string;
}

export interface ReceiverKeyInput {
  /** The receiver's static X25519 key pair. */
  readonly receiverBox: KeyPair;
  readonly senderBoxPublicKey: Uint8Array;
  /** From the stream header. */
  readonly ephemeralPublicKey: Uint8Array;
  readonly salt: Uint8Array;
  readonly transferId: string;
}

/**
 * The sender's side: makes a fresh ephemeral key pair, derives the key, and drops
 * the ephemeral secret, so that nothing kept can re-derive this stream's key from
 * the receiver's side of the exchange.
 */
export function senderStreamKey(input: SenderKeyInput): { key: Uint8Array; ephemeralPublicKey: Uint8Array } {
  const ephemeral = nacl.box.keyPair();
  const key = senderStreamKeyWith(ephemeral, input);
  ephemeral.secretKey.fill(0);
  return { key, ephemeralPublicKey: ephemeral.publicKey };
}

/** As senderStreamKey with a given ephemeral key pair: for test vectors only. */
export function senderStreamKeyWith(ephemeral: KeyPair, input: SenderKeyInput): Uint8Array {
  checkLength(ephemeral.secretKey, nacl.box.secretKeyLength, 'ephemeral secret key');
  checkLength(input.senderBox.secretKey, nacl.box.secretKeyLength, 'sender box secret key');
  checkLength(input.receiverBoxPublicKey, nacl.box.publicKeyLength, 'receiver box public key');
  const es = dh(ephemeral.secretKey, input.receiverBoxPublicKey);
  const ss = dh(input.senderBox.secretKey, input.receiverBoxPublicKey);
  return derive(es, ss, input.salt, input.transferId, ephemeral.publicKey, input.senderBox.publicKey, input.receiverBoxPublicKey);
}

export function receiverStreamKey(input: ReceiverKeyInput): Uint8Array {
  checkLength(input.receiverBox.secretKey, nacl.box.secretKeyLength, 'receiver box secret key');
  checkLength(input.senderBoxPublicKey, nacl.box.publicKeyLength, 'sender box public key');
  checkLength(input.ephemeralPublicKey, nacl.box.publicKeyLength, 'ephemeral public key');
  const es = dh(input.receiverBox.secretKey, input.ephemeralPublicKey);
  const ss = dh(input.receiverBox.secretKey, input.senderBoxPublicKey);
  return derive(es, ss, input.salt, input.transferId, input.ephemeralPublicKey, input.senderBoxPublicKey, input.receiverBox.publicKey);
}

const ZERO = new Uint8Array(32);

function dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const shared = nacl.scalarMult(secretKey, publicKey);
  // A low-order public key makes the shared secret all zeros whatever our secret:
  // a key anyone could compute, so refuse it rather than seal with it.
  if (timingSafeEqual(shared, ZERO)) throw new FerryError('BAD_KEY', 'key agreement with a low-order public key');
  return shared;
}

function derive(
  es: Uint8Array,
  ss: Uint8Array,
  salt: Uint8Array,
  transferId: string,
  ephemeralPublicKey: Uint8Array,
  senderBoxPublicKey: Uint8Array,
  receiverBoxPublicKey: Uint8Array,
): Uint8Array {
  checkLength(salt, SALT_LENGTH, 'salt');
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(transferId)) throw new FerryError('INVALID_INPUT', 'transfer id is malformed');
  const ikm = Buffer.concat([es, ss]);
  const info = streamKeyInfo(transferId, ephemeralPublicKey, senderBoxPublicKey, receiverBoxPublicKey);
  const key = new Uint8Array(hkdfSync('sha256', ikm, salt, info, STREAM_KEY_LENGTH));
  ikm.fill(0);
  es.fill(0);
  ss.fill(0);
  return key;
}
