// The layer table of DESIGN.md, as data: which folder may import which.
// Checked by the `ferry-layers/imports` lint rule (tools/eslint-layers.js).
// Each key is a folder under src/ (or the top-level proto/); its list names the
// layers it may import besides itself.
export const layers = {
  util: [],
  log: ['util'],
  domain: ['util'],
  proto: [],
  // The wire's own definitions (ids, encodings, key-derivation labels) come from proto/, once.
  crypto: ['proto', 'domain', 'util'],
  btrfs: ['domain', 'util', 'log'],
  store: ['domain', 'util'],
  state: ['domain', 'util'],
  sender: ['btrfs', 'store', 'crypto', 'proto', 'domain', 'util', 'log'],
  receiver: ['btrfs', 'store', 'crypto', 'proto', 'domain', 'util', 'log'],
  replication: ['domain', 'proto', 'util', 'log'],
  peer: ['proto', 'crypto', 'domain', 'util', 'log'],
  scheduler: ['domain', 'util', 'log'],
  api: ['proto', 'domain', 'util', 'log'],
  web: ['api', 'proto', 'domain', 'util'],
  cli: ['api', 'proto', 'domain', 'util', 'state'],
  daemon: ['*'],
};

// Layers a layer may load only by a dynamic import(), when a command needs
// them: the CLI starts the daemon (serve) and works on a stopped appliance's
// state (init, config), but a read command must not pay for loading it.
export const lazyLayers = {
  cli: ['daemon'],
};

// Packages that only one layer may import: one owner each, so that a swap or
// an audit touches one folder.
export const ownedPackages = {
  tweetnacl: ['crypto'],
  'better-sqlite3': ['store'],
  // btrfs-progs, and systemd-notify for the unit's readiness (src/daemon/systemd.ts).
  'node:child_process': ['btrfs', 'daemon'],
  child_process: ['btrfs', 'daemon'],
  bree: ['scheduler'],
  '@breejs/later': ['scheduler'],
  'cron-validate': ['scheduler'],
  fastify: ['peer', 'api', 'web', 'daemon'],
  pino: ['log'],
  // The web UI's guards: one place decides how a browser signs in.
  '@fastify/cookie': ['web'],
  '@fastify/helmet': ['web'],
  '@fastify/rate-limit': ['web'],
  '@fastify/static': ['web'],
  // The web UI's self-signed certificate, kept in the state dir.
  selfsigned: ['state'],
  undici: ['peer', 'api', 'cli'],
  // The ferry command's one call to its own daemon (api/http1.ts).
  'http-parser-js': ['api'],
};

// proto/ is the wire contract shared with other implementations: zod and
// node built-ins only.
export const protoPackages = ['zod'];
