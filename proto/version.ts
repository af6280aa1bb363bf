// The protocol version every signed request, response and stream header carries.
// A receiver refuses any other value with UNSUPPORTED_VERSION rather than guess:
// a change to any byte layout, signing string or schema in proto/ bumps it.

export const PROTOCOL_VERSION = 2;

/** Every route of the peer API lives under this prefix, so a version bump can serve both. */
export const API_PREFIX = `/ferry/v${PROTOCOL_VERSION}`;
