// Builds the `ferry` command so that it answers at once:
//
// 1. The command line (src/cli/main.ts) bundled into one CommonJS script,
//    dist/cli/ferry.cjs. Loading the compiled CLI module by module cost
//    ~0.35 s of start-up here, most of it resolving and compiling files one
//    at a time (Node 20 has no compile cache for ES modules).
// 2. dist/ferry.cjs, the command itself: main.ts's shebang line, then
//    tools/ferry-launcher.cjs, which runs the bundle through V8's code cache.
// 3. That cache, made by running `ferry status` against a stand-in admin API
//    on 127.0.0.1, so it holds the bytecode of what a read command runs:
//    reading the config, the HTTP call, checking the answer, printing.
//
// What stays out of the bundle:
// - the daemon (src/daemon/): the CLI loads it by dynamic import() only for
//   `serve`, `init` and `config` (tools/layers.js enforces that), and it is
//   taken from the compiled tree (dist/src/daemon/), where its worker files
//   and native modules are;
// - zod's translations of its messages other than English, which zod never
//   uses unless asked to (they were half of the bundle when it held classic
//   zod; the contract is zod/mini now, and the bundle about 170 KB).
//
// Run by `npm run build` after tsc, and by the test suite's global setup.

import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { build } from 'esbuild';
import { zodEnglishOnly } from './zod-english-only.js';

const root = path.resolve(import.meta.dirname, '..');
const daemonDir = path.join(root, 'src', 'daemon') + path.sep;
const bundle = path.join(root, 'dist/cli/ferry.cjs');
const command = path.join(root, 'dist/ferry.cjs');

/** Imports that resolve into src/daemon/ are left to the compiled tree: dist/src/daemon/X.js, from dist/cli/. */
const daemonExternal = {
  name: 'daemon-external',
  setup(b) {
    b.onResolve({ filter: /daemon\// }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      if (!target.startsWith(daemonDir)) return undefined;
      return { path: '../' + path.relative(root, target).split(path.sep).join('/'), external: true };
    });
  },
};

/** Runs `ferry status` once against a stand-in daemon, with the launcher told to write the code cache. */
async function makeCodeCache() {
  rmSync(`${bundle}.cache`, { force: true });
  const status = { id: 'fcodecachecodecacheco', name: 'cache', fingerprint: '0000 0000 0000 0000 0000 0000 0000 0000', listen: '127.0.0.1:1', advertise: '127.0.0.1:1', admin: '127.0.0.1:2', ui: { local: 'http://127.0.0.1:2/', lan: null, tlsFingerprint: null, passwordSet: true }, service: 'enabled', transfers: [] };
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/api/v1/status' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/api/v1/status' ? status : { code: 'NOT_FOUND', message: 'stand-in' }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state = mkdtempSync(path.join(os.tmpdir(), 'ferry-code-cache-'));
  try {
    const port = server.address().port;
    writeFileSync(path.join(state, 'config.json'), JSON.stringify({ version: 1, name: 'cache', listen: '127.0.0.1:1', admin: `127.0.0.1:${port}`, advertise: '127.0.0.1:1' }));
    writeFileSync(path.join(state, 'admin.token'), 'stand-in\n');
    // Asynchronous: the stand-in answers from this process's event loop.
    const ran = await new Promise((resolve) => {
      // With the shebang's node flags: V8 refuses a cache made under other flags.
      const flags = readFileSync(command, 'utf8').split('\n', 1)[0].split(' ').filter((w) => w.startsWith('--'));
      const child = spawn(process.execPath, [...flags, command, '--state', state, 'status', '--json'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FERRY_CODE_CACHE: 'write' } });
      let err = '';
      child.stderr.on('data', (b) => (err += b));
      child.on('close', (code) => resolve({ code, err }));
    });
    if (ran.code !== 0) throw new Error(`making the code cache failed: ${ran.err}`);
  } finally {
    server.close();
    rmSync(state, { recursive: true, force: true });
  }
}

/**
 * node:child_process, loaded when first used rather than at start-up:
 * commander requires it at the top for subcommands that are programs of
 * their own, which ferry has none of, and loading it cost 13 ms of every
 * command. Only for CommonJS consumers (commander), which read properties at
 * call time.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.namespace === 'lazy' ? { path: 'node:child_process', external: true } : args.importer.includes(`${path.sep}commander${path.sep}`) ? { path: 'child_process', namespace: 'lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "let loaded; module.exports = new Proxy({}, { get: (_t, key) => (loaded ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};

export async function bundleCli() {
  await build({
    entryPoints: [path.join(root, 'src/cli/main.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    // import.meta.url, as the CommonJS script it becomes sees itself.
    define: { 'import.meta.url': '__ferryUrl' },
    banner: { js: "const __ferryUrl = require('node:url').pathToFileURL(__filename).href;" },
    plugins: [daemonExternal, zodEnglishOnly, lazyChildProcess],
    logLevel: 'warning',
  });
  // The shebang is the launcher's: the bundle runs inside a function, where a `#!` line cannot be.
  const code = readFileSync(bundle, 'utf8').replace(/^#![^\n]*\n/, '');
  writeFileSync(bundle, code);
  const shebang = readFileSync(path.join(root, 'src/cli/main.ts'), 'utf8').split('\n', 1)[0];
  writeFileSync(command, `${shebang}\n${readFileSync(path.join(root, 'tools/ferry-launcher.cjs'), 'utf8')}`);
  chmodSync(command, 0o755);
  await makeCodeCache();
}

if (process.argv[1] === import.meta.filename) await bundleCli();
