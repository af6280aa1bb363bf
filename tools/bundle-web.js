// Builds the web UI that the daemon serves from dist/web:
//
// - dist/web/assets/app.js: src/web/ui/main.tsx and everything it imports
//   (preact, the router, uPlot, zod and the admin API's own schemas, so the
//   browser validates a form with the rules the daemon applies), bundled for
//   the browser. One file with no CDN: an appliance may have no internet.
// - dist/web/assets/app.css: the UI's styles.css and uPlot's CSS, which the
//   entry imports, in one file. The server's Content-Security-Policy allows
//   only same-origin scripts and styles, so nothing is inlined in the page.
// - dist/web/index.html: the one page, copied as is; it loads the two files.
//
// Run by `npm run build` last. Any error fails the build: a UI that did not
// build must not ship beside a daemon that serves the old one.

import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { build } from 'esbuild';
import { zodEnglishOnly } from './zod-english-only.js';

const root = path.resolve(import.meta.dirname, '..');
const ui = path.join(root, 'src/web/ui');
const out = path.join(root, 'dist/web');

export async function bundleWeb() {
  // A stale asset from an older build must not be served beside the new ones.
  rmSync(out, { recursive: true, force: true });
  mkdirSync(path.join(out, 'assets'), { recursive: true });
  const result = await build({
    entryPoints: { app: path.join(ui, 'main.tsx') },
    outdir: path.join(out, 'assets'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(ui, 'tsconfig.json'),
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [zodEnglishOnly],
    logLevel: 'warning',
  });
  // esbuild throws on errors; warnings (an import of node: from a file the UI should not use shows as one first) fail the build too.
  if (result.warnings.length > 0) throw new Error(`the web UI built with ${result.warnings.length} warnings (above)`);
  copyFileSync(path.join(ui, 'index.html'), path.join(out, 'index.html'));
}

if (process.argv[1] === import.meta.filename) {
  try {
    await bundleWeb();
  } catch (error) {
    process.stderr.write(`bundle-web: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
