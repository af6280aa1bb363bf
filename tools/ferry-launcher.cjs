// The `ferry` command as installed (dist/ferry.cjs; tools/bundle-cli.js puts
// the shebang line of src/cli/main.ts above this). It runs the bundled
// command line, dist/cli/ferry.cjs, through V8's code cache: the bytecode
// of the functions a command runs is read back instead of compiled again,
// which takes about a fifth off every command's start-up (npm run bench:cli).
// The cache is made at build time; V8 refuses one made by another node or
// with other flags, and then the command compiles as usual and writes a
// fresh cache for the next call (when it may: a read-only install just runs).
// CommonJS rather than an ES module: node starts a CommonJS script sooner.

'use strict';
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');
const process = require('node:process');
const vm = require('node:vm');

const file = path.join(__dirname, 'cli', 'ferry.cjs');
const cacheFile = `${file}.cache`;

/** The verb: the first argument that is neither an option nor the value of --state. */
function verbOf(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--state') i++;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return null;
}

// The verbs that load the daemon (serve, init, config) run the bundle as a
// plain CommonJS module: their dynamic import() of the daemon's ES modules
// needs node's own loader, which a script compiled through node:vm (and read
// back from the code cache) does not get without an experimental option.
// They are not the ones that must start quickly.
if (['serve', 'init', 'config'].includes(verbOf(process.argv.slice(2)))) {
  require(file);
} else {
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`, { filename: file, cachedData });
  if (process.env.FERRY_CODE_CACHE === 'write' || cachedData === undefined || script.cachedDataRejected) {
    // At exit, so the cache holds the functions this command compiled, not only the top level.
    process.once('exit', () => {
      try {
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        // a read-only install: the next call compiles again
      }
    });
  }
  const bundled = { exports: {} };
  script.runInThisContext()(bundled.exports, createRequire(file), bundled, file, path.dirname(file));
}
