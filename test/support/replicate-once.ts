// Child process for the memory test: replicates <share> on <source-pool> to
// <target-pool> once, in-process, then prints the run's outcome and this
// process's peak RSS (VmHWM) as one JSON line.

import { readFile } from 'node:fs/promises';
import { localPair } from './pair.js';

const [sourcePath, targetPath] = process.argv.slice(2);
if (!sourcePath || !targetPath) throw new Error('usage: replicate-once SOURCE_POOL TARGET_POOL');

const noDestroy = (): Promise<void> => Promise.resolve();
const pair = await localPair({
  source: { path: sourcePath, image: '', loopDevice: '', destroy: noDestroy },
  target: { path: targetPath, image: '', loopDevice: '', destroy: noDestroy },
});
const outcome = await pair.driver.run(pair.task());
const status = await readFile('/proc/self/status', 'utf8');
const hwm = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
const [entry] = pair.senderStore.sendTrail.list({ limit: 1 });
await pair.close();
process.stdout.write(JSON.stringify({ status: outcome.status, bytes: entry?.bytes ?? 0, peakRssKiB: Number(hwm) }) + '\n');
