// `ferry config export` and `ferry config import`: the appliance's identity
// keys, config.json and configuration tables (peers, pools, grants,
// policies, tasks, settings, the chains and copies that describe the
// replicas on its data pools), sealed with a passphrase. An appliance whose
// system disk died comes back from it with the same id, so its peers know it
// without pairing again. Import checks everything before it writes anything:
// a wrong passphrase or a damaged file changes nothing.

import { randomBytes } from 'node:crypto';
import { copyFile, chmod, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { applianceId, openWithPassphrase, parseIdentity, sealWithPassphrase, serializeIdentity, type ScryptCost } from '../crypto/index.js';
import { FerryError } from '../domain/errors.js';
import { ConfigDump } from '../store/config-dump.js';
import { PeerClient, toPeerRecord } from '../peer/index.js';
import { validatePeerId } from '../receiver/validate.js';
import { openStore, type Peer } from '../store/index.js';
import { configSchema, writeSecret, type StateDir } from '../state/state-dir.js';

const FORMAT = 'ferry-config-v1';

const Payload = z.strictObject({
  format: z.literal(FORMAT),
  exportedAt: z.string(),
  config: configSchema,
  identity: z.string().max(10_000),
  store: ConfigDump,
});

export interface ExportSummary {
  readonly id: string;
  readonly name: string;
  readonly peers: number;
  readonly pools: number;
  readonly tasks: number;
}

function summary(payload: z.infer<typeof Payload>): ExportSummary {
  return {
    id: applianceId(parseIdentity(payload.identity).signing.publicKey),
    name: payload.config.name,
    peers: payload.store.tables.peers?.length ?? 0,
    pools: payload.store.tables.pools?.length ?? 0,
    tasks: payload.store.tables.tasks?.length ?? 0,
  };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Seals the appliance's configuration into `file` (0600); refuses to overwrite one unless forced. */
export async function exportConfig(state: StateDir, file: string, passphrase: string, options: { force?: boolean; cost?: ScryptCost } = {}): Promise<ExportSummary> {
  if (!options.force && (await exists(file))) throw new FerryError('ALREADY_EXISTS', `${file} exists already: choose another file, or --force to replace it`);
  const config = state.readConfig();
  const identity = serializeIdentity(parseIdentity(await readFile(state.identityPath, 'utf8')));
  const store = openStore(state.databasePath);
  let dump: ConfigDump;
  try {
    dump = store.dumpConfig();
  } finally {
    store.close();
  }
  const payload = { format: FORMAT, exportedAt: new Date().toISOString(), config, identity, store: dump } as const;
  const sealed = await sealWithPassphrase(new TextEncoder().encode(JSON.stringify(payload)), passphrase, options.cost);
  await writeSecret(file, sealed);
  return summary(payload);
}

/**
 * Puts an export back into a state dir: refused over an existing appliance
 * unless forced (its keys are what its peers trust), and only while no
 * daemon runs on it (stop it first).
 */
export async function importConfig(state: StateDir, file: string, passphrase: string, options: { force?: boolean } = {}): Promise<ExportSummary> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new FerryError('NOT_FOUND', `cannot read ${file}`);
  }
  const plain = await openWithPassphrase(text, passphrase);
  const parsed = Payload.safeParse(JSON.parse(new TextDecoder().decode(plain)));
  if (!parsed.success) throw new FerryError('INVALID_INPUT', `the export opened but its contents are not a Ferry configuration: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const payload = parsed.data;
  const imported = summary(payload);
  if ((await state.exists()) || (await exists(state.identityPath))) {
    const current = await readFile(state.identityPath, 'utf8').then(
      (t) => applianceId(parseIdentity(t).signing.publicKey),
      () => 'unknown',
    );
    if (!options.force) {
      throw new FerryError('ALREADY_EXISTS', `${state.root} already holds an appliance (${current}); import into an empty state dir, or --force to replace it with ${imported.name} (${imported.id})`);
    }
  }
  await state.create();
  const store = openStore(state.databasePath);
  try {
    store.loadConfig(payload.store);
  } finally {
    store.close();
  }
  await writeSecret(state.identityPath, payload.identity);
  if (!(await exists(state.tokenPath))) await state.writeNewToken(randomBytes);
  // The config goes last: its presence marks the state dir as an appliance.
  await state.writeConfig(payload.config);
  return imported;
}

// ---- offsite: the sealed export kept by a peer -------------------------------------

/** Where this appliance keeps a peer's sealed export: by the peer's id, never by a name from the wire. */
function keptPath(state: StateDir, peerId: string): string {
  return path.join(state.root, 'peer-configs', `${validatePeerId(peerId)}.ferry`);
}

/** On the keeping side: stores a peer's sealed export as it came (it cannot open it), replacing the last one. */
export async function keepPeerConfig(state: StateDir, peerId: string, sealed: string): Promise<{ bytes: number; storedAt: string }> {
  const file = keptPath(state, peerId);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeSecret(file, sealed);
  return { bytes: Buffer.byteLength(sealed), storedAt: new Date().toISOString() };
}

function peerOf(state: StateDir, ref: string): Peer | undefined {
  const store = openStore(state.databasePath);
  try {
    return store.peers.find(ref);
  } finally {
    store.close();
  }
}

/** Leaves a sealed export with a paired peer (the daemon need not run; the peer must be reachable). */
export async function pushConfig(state: StateDir, peerRef: string, file: string): Promise<{ peer: string; bytes: number; storedAt: string }> {
  const peer = peerOf(state, peerRef);
  if (!peer) throw new FerryError('NOT_FOUND', `no peer with id or name '${peerRef}' (see 'ferry peer list')`);
  const identity = parseIdentity(await readFile(state.identityPath, 'utf8'));
  const kept = await new PeerClient({ identity, peer: toPeerRecord(peer) }).keepConfig(await readFile(file, 'utf8'));
  return { peer: peer.name, ...kept };
}

/** On the keeping side: writes out the export a peer left here (0600), for its admin to import on new hardware. */
export async function keptConfig(state: StateDir, peerRef: string, to: string): Promise<{ peer: string; file: string }> {
  const id = peerOf(state, peerRef)?.id ?? peerRef;
  const from = keptPath(state, id);
  if (!(await exists(from))) throw new FerryError('NOT_FOUND', `no configuration export of peer '${peerRef}' is kept here (it pushes one with 'ferry config export FILE --push PEER')`);
  if (await exists(to)) throw new FerryError('ALREADY_EXISTS', `${to} exists already: choose another file`);
  await copyFile(from, to);
  await chmod(to, 0o600);
  return { peer: id, file: to };
}
