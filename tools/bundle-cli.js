// Bundles the `ferry` command (src/cli/main.ts) into one file, dist/ferry.mjs,
// so that a command answers at once. Loading the compiled CLI module by
// module cost ~0.35 s of start-up here, most of it resolving and compiling
// files one at a time (Node 20 has no compile cache for ES modules); one
// file costs about half of that.
//
// What stays out of the bundle:
// - the daemon (src/daemon/): the CLI loads it by dynamic import() only for
//   `serve`, `init` and `config` (tools/layers.js enforces that), and it is
//   taken from the compiled tree beside the bundle (dist/src/daemon/), where
//   its worker files and native modules are;
// - zod's translations of its messages other than English, which zod never
//   uses unless asked to (264 KB of the 560 KB bundle).
//
// Run by `npm run build` after tsc, and by the test suite's global setup.

import path from 'node:path';
import process from 'node:process';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const daemonDir = path.join(root, 'src', 'daemon') + path.sep;

/** Imports that resolve into src/daemon/ are left to the compiled tree: `./src/daemon/X.js` from dist/. */
const daemonExternal = {
  name: 'daemon-external',
  setup(b) {
    b.onResolve({ filter: /daemon\// }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      if (!target.startsWith(daemonDir)) return undefined;
      return { path: './' + path.relative(root, target).split(path.sep).join('/'), external: true };
    });
  },
};

/** zod's locale index, replaced by one that has English only (the locale zod configures by default). */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}zod${path.sep}`) ? { path: path.resolve(args.resolveDir, args.path), namespace: 'zod-en' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(path.join(path.dirname(args.path), 'en.js'))};`,
      resolveDir: path.dirname(args.path),
    }));
  },
};

export async function bundleCli() {
  await build({
    entryPoints: [path.join(root, 'src/cli/main.ts')],
    outfile: path.join(root, 'dist/ferry.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    sourcemap: 'linked',
    // CommonJS packages inside an ES module bundle still call require() for node's modules.
    banner: { js: "import { createRequire as __ferryRequire } from 'node:module'; const require = __ferryRequire(import.meta.url);" },
    plugins: [daemonExternal, zodEnglishOnly],
    logLevel: 'warning',
  });
}

if (process.argv[1] === import.meta.filename) await bundleCli();
