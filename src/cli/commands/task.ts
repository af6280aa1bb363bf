import type { Command } from 'commander';
import type { AdminClient } from '../../api/client.js';
import type { RunView, TaskEditBody } from '../../api/schemas.js';
import type { TaskView } from '../../api/views.js';
import { formatDuration, parseDuration } from '../../domain/names.js';
import { defaultRetries, defaultRetryBackoffMs, maxRetries } from '../../domain/task.js';
import { formatBytes } from '../../util/bytes.js';
import { adminClient, type GlobalOptions } from '../context.js';
import { describeHealth, describeSpace } from './pool.js';
import { EXIT_FAILED } from '../exit-codes.js';
import { UsageError } from '../errors.js';
import { line, lineToStderr, printJson, printTable, shown } from '../output.js';

function keepOf(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw new UsageError(`${flag} must be a whole number from 1 to 10000, not '${text}'`);
  return n;
}

interface AddOptions {
  share: string;
  as?: string;
  peer: string;
  pool: string;
  every?: string;
  cron?: string;
  keepLocal?: string;
  keepRemote?: string;
  onDegradedSource?: string;
  onDegradedTarget?: string;
  retries?: string;
  retryBackoff?: string;
}

function retriesOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > maxRetries) throw new UsageError(`--retries must be a whole number from 0 to ${maxRetries}, not '${text}'`);
  return n;
}

function backoffOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (seconds > 3600) throw new UsageError(`--retry-backoff is at most 1h, not '${text}'`);
  return seconds * 1000;
}

function degradedChoice(flag: string, text: string | undefined): 'replicate' | 'hold' | undefined {
  if (text === undefined) return undefined;
  if (text !== 'replicate' && text !== 'hold') throw new UsageError(`${flag} takes 'replicate' or 'hold', not '${text}'`);
  return text;
}

type Tuning = Pick<AddOptions, 'every' | 'cron' | 'keepLocal' | 'keepRemote' | 'onDegradedSource' | 'onDegradedTarget' | 'retries' | 'retryBackoff'>;

/** What `task add` and `task edit` share: schedule, retention, degraded-pool choices and retries, checked flag by flag. */
function tuningOf(opts: Tuning): TaskEditBody {
  const keepLocal = keepOf('--keep-local', opts.keepLocal);
  const keepRemote = keepOf('--keep-remote', opts.keepRemote);
  const onDegradedSource = degradedChoice('--on-degraded-source', opts.onDegradedSource);
  const onDegradedTarget = degradedChoice('--on-degraded-target', opts.onDegradedTarget);
  const retries = retriesOf(opts.retries);
  const retryBackoffMs = backoffOf(opts.retryBackoff);
  return {
    ...(opts.every === undefined ? {} : { every: parseDuration(opts.every) }),
    ...(opts.cron === undefined ? {} : { cron: opts.cron }),
    ...(keepLocal === undefined ? {} : { keepLocal }),
    ...(keepRemote === undefined ? {} : { keepRemote }),
    ...(onDegradedSource === undefined ? {} : { onDegradedSource }),
    ...(onDegradedTarget === undefined ? {} : { onDegradedTarget }),
    ...(retries === undefined ? {} : { retries }),
    ...(retryBackoffMs === undefined ? {} : { retryBackoffMs }),
  };
}

/** The options of `task add` that `task edit` takes too. */
function tuningOptions(command: Command): Command {
  return command
    .option('--every <duration>', 'run every DURATION, like 10m or 6h')
    .option('--cron <expr>', 'run on a cron schedule, like "0 3 * * *"')
    .option('--keep-local <n>', 'snapshots to keep here')
    .option('--keep-remote <n>', 'replicas to keep on the peer')
    .option('--on-degraded-source <choice>', "'replicate' (default: a fresh copy matters most then) or 'hold'")
    .option('--on-degraded-target <choice>', "'hold' (default: no writes to a pool without redundancy) or 'replicate'")
    .option('--retries <n>', `attempts after the first when a run fails for a passing reason (peer unreachable, a cut stream, a busy share); default ${defaultRetries}`)
    .option('--retry-backoff <duration>', `the first retry's delay, doubling after each; default ${defaultRetryBackoffMs / 1000}s`);
}

function describeTask(t: TaskView): string {
  const as = t.share === t.sharePath.split('/').at(-1) ? '' : ` as '${t.share}'`;
  return `task ${t.name}: ${t.sharePath} -> ${t.peer}:${t.pool}${as}, ${t.schedule}, keep ${t.keepLocal} here and ${t.keepRemote} there`;
}

export function registerTask(program: Command, globals: () => GlobalOptions): void {
  const task = program.command('task').description('replication tasks: a share, a peer, a pool and a schedule');
  tuningOptions(
    task
      .command('add')
      .argument('<name>', 'a name for the task')
      .requiredOption('--share <path>', 'the share (a btrfs subvolume) to replicate')
      .option('--as <name>', "the share's name on the peer (its replica folder); default the share's folder name")
      .requiredOption('--peer <peer>', "the receiving peer's id or name")
      .requiredOption('--pool <pool>', 'the pool on the peer to replicate into'),
  )
    .action(async (name: string, opts: AddOptions) => {
      if ((opts.every === undefined) === (opts.cron === undefined)) throw new UsageError('give exactly one of --every DURATION or --cron EXPR');
      const { task: added, warnings } = await adminClient(globals()).addTask({
        name,
        sharePath: opts.share,
        ...(opts.as === undefined ? {} : { shareName: opts.as }),
        peer: opts.peer,
        pool: opts.pool,
        ...tuningOf(opts),
      });
      line(describeTask(added));
      for (const w of warnings) lineToStderr(`warning: ${shown(w)}`);
    });
  tuningOptions(task.command('edit').argument('<name>').description("change a task's schedule, retention, degraded-pool choices or retries (its share, peer and pool stay)"))
    .option('--json', 'one JSON document on stdout')
    .action(async (name: string, opts: Tuning & { json?: boolean }) => {
      if (opts.every !== undefined && opts.cron !== undefined) throw new UsageError('give --every DURATION or --cron EXPR, not both');
      const change = tuningOf(opts);
      if (Object.keys(change).length === 0) throw new UsageError('nothing to change: give at least one option (see ferry task edit --help)');
      const edited = await adminClient(globals()).editTask(name, change);
      if (opts.json) return printJson(edited);
      line(describeTask(edited));
    });
  task
    .command('list')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { json?: boolean }) => {
      const tasks = await adminClient(globals()).listTasks();
      if (opts.json) return printJson(tasks);
      printTable(
        ['name', 'share', 'peer', 'pool', 'schedule', 'state', 'last success'],
        tasks.map((t) => [t.name, t.sharePath, t.peer, t.pool, t.schedule, t.paused ? 'paused' : t.running ? 'running' : t.health.state, t.lastSucceeded]),
      );
    });
  task
    .command('show')
    .argument('<name>')
    .option('--json', 'one JSON document on stdout')
    .action(async (name: string, opts: { json?: boolean }) => {
      const t = await adminClient(globals()).showTask(name);
      if (opts.json) return printJson(t);
      line(`task         ${t.name}${t.paused ? ' (paused)' : ''}`);
      line(`share        ${t.sharePath}`);
      line(`to           ${t.peer} pool ${t.pool}`);
      line(`schedule     ${t.schedule}`);
      line(`keep         ${t.keepLocal} here, ${t.keepRemote} there`);
      line(`if degraded  source: ${t.onDegradedSource}, target: ${t.onDegradedTarget}`);
      line(`retries      ${t.retries}, first after ${formatDuration(Math.round(t.retryBackoffMs / 1000))}, for passing failures only`);
      line(`health       ${t.health.state}${t.health.reason ? `: ${shown(t.health.reason)}` : ''}`);
      line(`source pool  ${describeHealth(t.sourceHealth)}${t.sourceHealth ? `, ${describeSpace(t.sourceHealth)} free (checked ${t.sourceHealth.checkedAt})` : ''}`);
      // What the last attempt saw of both pools: newer than the check between runs, and about the target too.
      const seen = t.recent[0]?.findings;
      if (seen) line(`last attempt ${shown(seen)} (${t.recent[0]?.startedAt ?? ''})`);
      line('recent attempts');
      printTable(
        ['started', 'snapshot', 'mode', 'parent', 'status', 'bytes', 'error'],
        t.recent.map((e) => [e.startedAt, e.snapshot, e.mode, e.parent, e.status, formatBytes(e.bytes), e.errorCode]),
      );
    });
  task
    .command('run')
    .argument('<name>')
    .option('--wait', 'wait for the run to end (progress on a terminal); exit 0 only if it succeeded')
    .option('--json', 'the run as JSON on stdout: as it began, or with --wait as it ended')
    .description('run a task now')
    .action(async (name: string, opts: { wait?: boolean; json?: boolean }) => {
      const client = adminClient(globals());
      if (!opts.wait) {
        const run = await client.runTask(name);
        if (opts.json) return printJson(run);
        line(run.state === 'queued' ? `run ${run.id} of task ${name} queued: it starts when a run under way ends` : `run ${run.id} of task ${name} started`);
        return;
      }
      // Listen first, so the run's first event cannot pass before we do.
      const seen = new Map<string, RunView>();
      let wake: () => void = () => undefined;
      const stream = await client.events((event) => {
        seen.set(event.run.id, event.run);
        wake();
      });
      let end: RunView;
      try {
        const run = await client.runTask(name);
        end = await waitForRun(client, run, seen, (w) => (wake = w), opts.json !== true);
      } finally {
        stream.close();
      }
      if (opts.json) {
        printJson(end);
        if (end.state !== 'succeeded') process.exitCode = EXIT_FAILED;
        return;
      }
      if (end.state === 'succeeded') {
        line(`run of ${name} succeeded: snapshot ${end.snapshot ?? '-'}, ${formatBytes(end.bytes)} sent`);
        // A run that succeeded on a pool in trouble says so here, not only in the trail.
        const [last] = await client.sendTrail({ task: name, limit: 1 });
        if (last?.findings) line(`  but the pools were not all well: ${shown(last.findings)}`);
        return;
      }
      lineToStderr(`ferry: run of ${name} ${end.state}: ${shown(end.error ?? 'no reason given')} [${end.errorCode ?? 'FAILED'}]`);
      process.exitCode = EXIT_FAILED;
    });
  task
    .command('cancel')
    .argument('<name>')
    .option('--json', 'the run as JSON on stdout')
    .description('cancel the run of a task under way or queued; both trails say cancelled, and the next scheduled run goes on as usual')
    .action(async (name: string, opts: { json?: boolean }) => {
      const run = await adminClient(globals()).cancelTask(name);
      if (opts.json) return printJson(run);
      if (run.state === 'cancelled') line(`run ${run.id} of task ${name} cancelled${run.bytes > 0 ? ` after ${formatBytes(run.bytes)}` : ''}`);
      else line(`run ${run.id} of task ${name} ended ${run.state} before the cancel reached it`);
    });
  for (const [verb, text] of [
    ['pause', 'stop scheduled runs of a task (a run under way finishes)'],
    ['resume', 'let scheduled runs of a task start again'],
    ['remove', 'remove a task (its snapshots and replicas stay)'],
  ] as const) {
    task
      .command(verb)
      .argument('<name>')
      .description(text)
      .action(async (name: string) => {
        const client = adminClient(globals());
        if (verb === 'pause') await client.pauseTask(name);
        else if (verb === 'resume') await client.resumeTask(name);
        else await client.removeTask(name);
        line(`task ${name} ${verb === 'remove' ? 'removed' : verb === 'pause' ? 'paused' : 'resumed'}`);
      });
  }
}

/** How long the wait trusts the event stream alone before it asks for the run itself (a daemon restart cuts the stream). */
const QUIET_MS = 2_000;

/** Follows a run to its end by the live events in `seen`, asking the daemon only when they go quiet. */
async function waitForRun(client: AdminClient, started: RunView, seen: Map<string, RunView>, onWake: (wake: () => void) => void, bar: boolean): Promise<RunView> {
  // Loaded here, not at start: only a followed run draws a bar (and its library costs every other command start-up).
  const progress = bar ? new (await import('../progress.js')).TransferProgress(started.task) : { update: () => undefined, stop: () => undefined };
  // Ctrl-C stops the waiting, not the run: say so, and how to stop the run.
  const interrupted = (): void => {
    progress.stop();
    lineToStderr(`\nferry: stopped waiting; the run of ${started.task} goes on in the daemon ('ferry task cancel ${started.task}' stops it, 'ferry trail send --task ${started.task}' shows how it ended)`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  let run = started;
  try {
    progress.update({ bytes: 0, total: null, state: run.state });
    while (run.state === 'running' || run.state === 'queued') {
      const woken = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), QUIET_MS);
        onWake(() => {
          clearTimeout(timer);
          resolve(true);
        });
        if (seen.has(started.id) && seen.get(started.id) !== run) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      run = (woken ? seen.get(started.id) : undefined) ?? (await client.getRun(started.id));
      progress.update({ bytes: run.bytes, total: run.estimatedBytes, state: run.state, ended: run.state !== 'running' && run.state !== 'queued' });
    }
  } finally {
    process.off('SIGINT', interrupted);
    progress.stop();
  }
  return run;
}
