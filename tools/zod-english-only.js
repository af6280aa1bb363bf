// An esbuild plugin for the two bundles (the command, tools/bundle-cli.js, and
// the web UI, tools/bundle-web.js): zod's locale index replaced by one that
// has English only, the locale zod configures by default. zod never loads the
// others unless asked to, and they are half of what zod would add to a bundle.

import path from 'node:path';

export const zodEnglishOnly = {
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
