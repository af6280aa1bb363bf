import type { Command } from 'commander';
import type { HealthView, PolicyView, PoolView } from '../../api/ports.js';
import type { PolicyBody } from '../../api/schemas.js';
import { parseDuration } from '../../domain/names.js';
import { parseSize } from '../../domain/sizes.js';
import { formatBytes } from '../../util/bytes.js';
import { adminClient, type GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import { line, printJson, printTable } from '../output.js';

interface PolicyOptions {
  peer?: string;
  keepAtLeast?: string;
  keepFor?: string;
  quota?: string;
  maxTransfers?: string;
}

const DAY = 86_400;

/** `none` clears a field. */
function clearable<T>(text: string, parse: (t: string) => T): T | null {
  return text === 'none' ? null : parse(text);
}

function keepAtLeastOf(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new UsageError(`--keep-at-least takes a whole number from 1 to 10000 or 'none', not '${text}'`);
  return n;
}

function maxTransfersOf(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--max-transfers takes a whole number from 1 to 64 or 'none', not '${text}'`);
  return n;
}

function keepDaysOf(text: string): number {
  const seconds = parseDuration(text);
  if (seconds % DAY !== 0) throw new UsageError(`--keep-for takes whole days (like 30d or 2w) or 'none', not '${text}'`);
  return seconds / DAY;
}

export function describePolicy(p: PolicyView): string {
  const parts = [
    ...(p.keepAtLeast === null ? [] : [`keeps at least ${p.keepAtLeast}`]),
    ...(p.keepDays === null ? [] : [`keeps ${p.keepDays}d`]),
    ...(p.quotaBytes === null ? [] : [`quota ${formatBytes(p.quotaBytes)} per peer`]),
    ...(p.maxTransfers === null ? [] : [`${p.maxTransfers} transfers at once per peer`]),
  ];
  return parts.length === 0 ? '-' : parts.join(', ');
}

export function describeHealth(health: HealthView | null): string {
  if (health === null) return 'not checked yet';
  return health.findings.length === 0 ? 'ok' : health.findings.map((f) => `${f.severity} ${f.code}`).join(', ');
}

/** `12.0 GiB of 100 GiB`: free of size, as the last check read them. */
export function describeSpace(health: HealthView | null): string {
  return health?.space ? `${formatBytes(health.space.freeBytes)} of ${formatBytes(health.space.sizeBytes)}` : '-';
}

function describeGrants(pool: PoolView): string {
  return pool.grants.length === 0 ? 'every paired peer' : pool.grants.map((g) => g.name ?? g.id).join(', ');
}

export function registerPool(program: Command, globals: () => GlobalOptions): void {
  const pool = program.command('pool').description('pools: btrfs mounts where peers may write their replicas');
  pool
    .command('add')
    .argument('<name>', 'a name for the pool')
    .argument('<path>', 'absolute path of a mounted btrfs filesystem (or a directory on one)')
    .description('offer a pool to paired peers (every peer, each in its own directory, until the pool has grants)')
    .action(async (name: string, path: string) => {
      const added = await adminClient(globals()).addPool(name, path);
      line(`pool ${added.name} added at ${added.path}`);
      for (const f of added.health?.findings ?? []) line(`  ${f.severity} ${f.code}: ${f.message}`);
    });
  pool
    .command('list')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { json?: boolean }) => {
      const pools = await adminClient(globals()).listPools();
      if (opts.json) return printJson(pools);
      printTable(
        ['name', 'path', 'health', 'free', 'takes', 'policy', 'added'],
        pools.map((p) => [p.name, p.path, describeHealth(p.health), describeSpace(p.health), describeGrants(p), describePolicy(p.policy), p.createdAt]),
      );
      for (const p of pools) {
        for (const o of p.peerPolicies) line(`  ${p.name}, for ${o.peerName ?? o.peer}: ${describePolicy(o)}`);
      }
    });
  pool
    .command('remove')
    .argument('<name>')
    .description('stop offering a pool (replicas already there stay)')
    .action(async (name: string) => {
      await adminClient(globals()).removePool(name);
      line(`pool ${name} removed`);
    });
  pool
    .command('grant')
    .argument('<pool>')
    .argument('<peer>', "the peer's id or name")
    .description('let a peer write into a pool; once a pool has grants, it takes only its granted peers')
    .action(async (name: string, peer: string) => {
      const updated = await adminClient(globals()).grantPool(name, peer);
      line(`pool ${updated.name} now takes: ${describeGrants(updated)}`);
    });
  pool
    .command('revoke')
    .argument('<pool>')
    .argument('<peer>', "the peer's id or name")
    .description("withdraw a peer's grant (its replicas there stay); a pool left without grants takes every paired peer again")
    .action(async (name: string, peer: string) => {
      const updated = await adminClient(globals()).revokePool(name, peer);
      line(`pool ${updated.name} now takes: ${describeGrants(updated)}`);
    });
  pool
    .command('policy')
    .argument('<pool>')
    .option('--peer <peer>', 'set it for one peer only (its fields override the pool’s)')
    .option('--keep-at-least <n>', "keep at least N replicas of each share, whatever the sender's --keep-remote asks ('none' to clear)")
    .option('--keep-for <days>', "keep every replica for this long, like 30d or 2w ('none' to clear)")
    .option('--quota <size>', "bytes a peer's replicas may take on the pool, like 500G or 2T ('none' to clear)")
    .option('--max-transfers <n>', "transfers a peer may hold open at once, 1 to 64 (default 4; 'none' to clear)")
    .description("the receiving admin's floor for retention, a quota per peer, and how many transfers a peer may hold at once")
    .action(async (name: string, opts: PolicyOptions) => {
      const change: PolicyBody = {
        ...(opts.peer === undefined ? {} : { peer: opts.peer }),
        ...(opts.keepAtLeast === undefined ? {} : { keepAtLeast: clearable(opts.keepAtLeast, keepAtLeastOf) }),
        ...(opts.keepFor === undefined ? {} : { keepDays: clearable(opts.keepFor, keepDaysOf) }),
        ...(opts.quota === undefined ? {} : { quotaBytes: clearable(opts.quota, parseSize) }),
        ...(opts.maxTransfers === undefined ? {} : { maxTransfers: clearable(opts.maxTransfers, maxTransfersOf) }),
      };
      if (opts.keepAtLeast === undefined && opts.keepFor === undefined && opts.quota === undefined) {
        throw new UsageError('give at least one of --keep-at-least, --keep-for or --quota');
      }
      const updated = await adminClient(globals()).setPoolPolicy(name, change);
      if (opts.peer === undefined) {
        line(`pool ${updated.name}: ${describePolicy(updated.policy)}`);
        return;
      }
      const own = updated.peerPolicies.find((p) => p.peer === opts.peer || p.peerName === opts.peer);
      line(`pool ${updated.name}, for ${opts.peer}: ${own ? describePolicy(own) : `nothing of its own (the pool's applies: ${describePolicy(updated.policy)})`}`);
    });
}
