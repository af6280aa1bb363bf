// V8 heap sizing for a process that streams gigabytes through short-lived
// buffers.
//
// Every chunk of a transfer passes through a few fresh Buffers (a pipe or
// socket read, the cipher's output). V8 counts the bytes of buffers it has not
// collected yet against the old generation's allocation limit, and after
// start-up that limit sits only ~20 MB above the live heap (~19 MB of modules
// and state). So tens of megabytes of garbage buffers, normal between two cheap
// young-generation collections, kept starting a full mark-compact: 108 of them
// per GiB sent, measured with --trace-gc, which cost 4-5 s of CPU per GiB (most
// of the daemon's CPU) on GC threads. A growing factor of 4 (V8's own maximum
// for larger heaps) leaves room for that garbage; the young collections free it
// and full collections drop to about 2 per GiB, while the live heap stays the
// same size. The flag is read each time V8 recomputes its limits, so setting it
// at start-up takes effect however the daemon was launched.

import { setFlagsFromString } from 'node:v8';

const HEAP_GROWING_PERCENT = 300;

export function tuneHeapForStreaming(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/**
 * The node flags the `ferry` command starts with (its shebang line and
 * deploy/ferry.service say the same; a unit test checks all three). They can
 * only be given at launch, unlike the growing factor above.
 */
export const LAUNCH_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/** The launch flags this process was started without (on the command line or in NODE_OPTIONS). */
export function missingLaunchFlags(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/).filter(Boolean)]);
  return LAUNCH_FLAGS.filter((flag) => !given.has(flag));
}
