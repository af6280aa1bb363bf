// The peer layer: HTTP between appliances (fastify server, undici client).
export type { PeerRecord, PeerDirectory, NonceCache, ReceiverPort, PairingPort } from './ports.js';
export { createPeerServer, DEFAULT_STALL_TIMEOUT_MS, DEFAULT_OPEN_TIMEOUT_MS, DEFAULT_DRAIN_MS } from './server.js';
export type { PeerServer, PeerServerOptions, PeerServerLimits, PeerServerControls } from './server.js';
export { PeerClient, hello } from './client.js';
export type { PeerClientOptions } from './client.js';
export type { PeerTimeouts } from './http.js';
export { defaultTimeouts, urlFor } from './http.js';
export { acceptInvite, createInvite, verifyAcceptRequest, pairAcceptResponse, nonceExpiry, DEFAULT_INVITE_TTL_SECONDS } from './pairing.js';
export type { CreatedInvite } from './pairing.js';
export { signRequest, signResponse, verifyResponse, verifyRequestSignature, idOf, newNonce, unixNow } from './signing.js';
export type { SignRequestInput } from './signing.js';
export { toWireError, fromErrorBody, wireError } from './errors.js';
export { toPeerRecord, fromPeerRecord } from './records.js';
export type { StoredPeerKeys } from './records.js';
