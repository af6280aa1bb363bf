// A first look at a pasted invite, before it is accepted: who it says it is,
// where it says it answers, and the fingerprint of its keys, computed here as
// the daemon computes it (sha256 of the label, a zero byte, the signing key
// and the box key; 16 bytes as 8 groups of 4 hex digits). The admin compares
// it with the fingerprint the other appliance shows. The daemon checks the
// invite itself when it is accepted; this only helps to see what it holds.

export interface InvitePreview {
  readonly name: string;
  readonly address: string;
  readonly applianceId: string;
  readonly expiresAt: string;
  readonly fingerprint: string;
}

const PREFIX = 'ferry-invite-v1:';
const LABEL = 'ferry-fingerprint-v1';

function fromBase64url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function field(object: Record<string, unknown>, key: string): string {
  const value = object[key];
  if (typeof value !== 'string') throw new Error(`no ${key}`);
  return value;
}

/** The invite's claims and fingerprint; null when the text is not an invite. */
export async function previewInvite(text: string): Promise<InvitePreview | null> {
  const line = text.trim();
  if (!line.startsWith(PREFIX)) return null;
  try {
    const json = JSON.parse(new TextDecoder().decode(fromBase64url(line.slice(PREFIX.length)))) as unknown;
    if (typeof json !== 'object' || json === null) return null;
    const invite = json as Record<string, unknown>;
    const signing = fromBase64url(field(invite, 'signingPublicKey'));
    const box = fromBase64url(field(invite, 'boxPublicKey'));
    const label = new TextEncoder().encode(LABEL);
    const input = new Uint8Array([...label, 0, ...signing, ...box]);
    // crypto.subtle needs a secure context: the UI is served on loopback or over TLS, both are.
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input)).subarray(0, 16);
    const hex = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    const expires = invite.expiresAt;
    return {
      name: field(invite, 'name'),
      address: field(invite, 'address'),
      applianceId: field(invite, 'applianceId'),
      expiresAt: typeof expires === 'number' ? new Date(expires * 1000).toISOString() : '',
      fingerprint: hex.match(/.{4}/g)?.join(' ') ?? hex,
    };
  } catch {
    return null;
  }
}
