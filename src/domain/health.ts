// Pool health: what the btrfs layer found about a pool, the findings a run
// records in its trail, and the per-task policy that says whether a run goes
// ahead on a degraded pool. Pure: tests drive it with plain values.
//
// The policy follows the boot-degraded choice of mirrored system disks (some
// admins want to carry on unattended with one disk gone, others want to stop
// until the hardware is replaced): by default a degraded source keeps
// replicating, since that is exactly when a fresh copy matters, and a degraded
// target holds writes until it is repaired. Either choice can be changed per task.

import { formatBytes } from '../util/bytes.js';
import type { HealthSeverity } from './vocabulary.js';

/** Error counters of one device, as `btrfs device stats` reports them (since they were last reset). */
export interface DeviceErrors {
  readonly write: number;
  readonly read: number;
  readonly flush: number;
  readonly corruption: number;
  readonly generation: number;
}

export interface PoolDevice {
  readonly devid: number;
  /** Device path; null when the device is missing. */
  readonly path: string | null;
  readonly missing: boolean;
  readonly errors: DeviceErrors;
}

/** The state of one pool (a mounted btrfs filesystem) before a run. */
export interface PoolHealth {
  /** The path the caller asked about. */
  readonly path: string;
  /** The mount point of the filesystem that holds `path`. */
  readonly mountPoint: string;
  /** Every device of the filesystem, missing ones included, by devid. */
  readonly devices: readonly PoolDevice[];
  readonly missingDevices: number;
  /** Sum of every error counter of every device. */
  readonly errorCount: number;
  /** Mounted read-only: by the mount's own flag, or the filesystem's (btrfs turns read-only after a serious error). */
  readonly readOnly: boolean;
  /** Mounted with the `degraded` option, or a device is missing. */
  readonly degraded: boolean;
  /** `Free (estimated)` of `btrfs filesystem usage`. */
  readonly freeBytes: number;
  /** `Device size` of `btrfs filesystem usage`: the raw size of all devices, missing ones included. */
  readonly sizeBytes: number;
  /** The mount's own options lack `nosuid` / `nodev`: setuid bits and device nodes on it keep their power. */
  readonly allowsSetuid: boolean;
  readonly allowsDevices: boolean;
}

export type PoolRole = 'source' | 'target';
export type { HealthSeverity } from './vocabulary.js';

/** Stable codes: trails, scripts and the UI key on them. */
export const healthCodes = ['POOL_DEGRADED', 'POOL_MISSING_DEVICE', 'POOL_DEVICE_ERRORS', 'POOL_READ_ONLY', 'POOL_LOW_SPACE', 'POOL_MOUNT_OPEN'] as const;
export type HealthCode = (typeof healthCodes)[number];

export interface HealthFinding {
  readonly pool: PoolRole;
  readonly severity: HealthSeverity;
  readonly code: HealthCode;
  /** Plain words for an admin: a lowercase phrase without a final period, like a planner's reason. */
  readonly message: string;
}

/** What a run does when a pool is degraded: go ahead, or hold until it is repaired. */
export type DegradedChoice = 'replicate' | 'hold';
export const degradedChoices = ['replicate', 'hold'] as const satisfies readonly DegradedChoice[];

export interface HealthPolicy {
  readonly onDegradedSource: DegradedChoice;
  readonly onDegradedTarget: DegradedChoice;
}

/** Keep replicating from a degraded source; hold writes to a degraded target. */
export const defaultHealthPolicy: HealthPolicy = Object.freeze({ onDegradedSource: 'replicate', onDegradedTarget: 'hold' });

/** The low-space threshold unless a task names one: 1 GiB, but no more than a tenth of the pool. */
export const DEFAULT_LOW_SPACE_BYTES = 1024 * 1024 * 1024;
const DEFAULT_LOW_SPACE_FRACTION = 0.1;

export interface AssessOptions {
  /** Free space below this many bytes is reported as POOL_LOW_SPACE. */
  readonly lowSpaceBytes?: number;
  /**
   * Report a receiving pool mounted without `nosuid,nodev` (POOL_MOUNT_OPEN):
   * for the receiving admin's own views (`pool add`, `pool list`), not for
   * the findings a sending peer records in its trail.
   */
  readonly mountSafety?: boolean;
}

export interface HealthDecision {
  readonly proceed: boolean;
  /**
   * Why the run holds, or why it goes ahead although a pool is degraded (the
   * task's policy said so); null when there was nothing to decide.
   */
  readonly reason: string | null;
}

function plural(n: number, one: string, many: string = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const errorKinds: readonly (keyof DeviceErrors)[] = ['write', 'read', 'flush', 'corruption', 'generation'];

function totalErrors(errors: DeviceErrors): number {
  return errorKinds.reduce((sum, kind) => sum + errors[kind], 0);
}

/** The findings a run records for one pool; [] for a healthy one. */
export function assessPool(role: PoolRole, health: PoolHealth, options: AssessOptions = {}): HealthFinding[] {
  const findings: HealthFinding[] = [];
  const pool = `the ${role} pool`;
  // A degraded source still reads every block; a degraded target would take
  // new data without redundancy, and is the one more likely to lose it.
  const degradedSeverity: HealthSeverity = role === 'source' ? 'warning' : 'critical';
  const add = (severity: HealthSeverity, code: HealthCode, message: string): void => {
    findings.push({ pool: role, severity, code, message });
  };

  if (health.readOnly) {
    add(
      'critical',
      'POOL_READ_ONLY',
      role === 'source'
        ? `${pool} is mounted read-only, so no snapshot of the share can be taken`
        : `${pool} is mounted read-only, so nothing can be received into it`,
    );
  }

  if (health.degraded) {
    const missing = health.missingDevices;
    add(
      degradedSeverity,
      'POOL_DEGRADED',
      missing > 0
        ? `${pool} is degraded (${plural(missing, 'device')} missing)`
        : `${pool} is mounted with the degraded option (no device is missing)`,
    );
  }

  if (health.missingDevices > 0) {
    const n = health.missingDevices;
    const ids = health.devices.filter((d) => d.missing).map((d) => d.devid);
    const total = health.devices.filter((d) => !d.missing).length + n;
    const which = ids.length === n ? `${ids.length === 1 ? 'devid' : 'devids'} ${ids.join(', ')}` : plural(n, 'device');
    add(
      degradedSeverity,
      'POOL_MISSING_DEVICE',
      `${which} of ${pool} ${n === 1 ? 'is' : 'are'} missing (${n} of ${plural(total, 'device')}): ` +
        `replace ${n === 1 ? 'it' : 'them'} with btrfs replace, or add a device and remove the missing one`,
    );
  }

  for (const device of health.devices) {
    const count = totalErrors(device.errors);
    if (count === 0) continue;
    const kinds = errorKinds
      .filter((kind) => device.errors[kind] > 0)
      .map((kind) => plural(device.errors[kind], `${kind} error`))
      .join(', ');
    const name = device.path === null ? `devid ${device.devid}` : `${device.path} (devid ${device.devid})`;
    add('warning', 'POOL_DEVICE_ERRORS', `device ${name} of ${pool} has recorded ${kinds} (btrfs device stats, since the counters were last reset)`);
  }
  // Counters btrfs reported for no device the pool lists still count.
  const listed = health.devices.reduce((sum, d) => sum + totalErrors(d.errors), 0);
  if (health.errorCount > listed) {
    add('warning', 'POOL_DEVICE_ERRORS', `${pool} has recorded ${plural(health.errorCount - listed, 'device error')} (btrfs device stats)`);
  }

  const threshold = options.lowSpaceBytes ?? Math.min(DEFAULT_LOW_SPACE_BYTES, Math.floor(health.sizeBytes * DEFAULT_LOW_SPACE_FRACTION));
  if (health.freeBytes < threshold) {
    add('warning', 'POOL_LOW_SPACE', `${pool} has ${formatBytes(health.freeBytes)} free, below the ${formatBytes(threshold)} threshold`);
  }
  if (options.mountSafety && role === 'target' && (health.allowsSetuid || health.allowsDevices)) {
    const missing = [health.allowsSetuid ? 'nosuid' : null, health.allowsDevices ? 'nodev' : null].filter((x) => x !== null).join(',');
    add(
      'info',
      'POOL_MOUNT_OPEN',
      `${pool} is mounted without ${missing}: setuid binaries and device nodes a peer sends keep their power there for whatever root runs from a replica; remount it with ${missing} (the replica area is root's alone either way)`,
    );
  }
  return findings;
}

/**
 * What the receiving admin's own views show of a pool: its findings (mount
 * safety included) without the role, and its size and free space. One
 * shape for the maintenance check and `pool add`.
 */
export function adminCheck(role: PoolRole, health: PoolHealth): { findings: { severity: HealthSeverity; code: HealthCode; message: string }[]; space: { sizeBytes: number; freeBytes: number } } {
  const findings = assessPool(role, health, { mountSafety: true }).map(({ severity, code, message }) => ({ severity, code, message }));
  return { findings, space: { sizeBytes: health.sizeBytes, freeBytes: health.freeBytes } };
}

/**
 * Whether a run goes ahead, given both pools' findings and the task's policy.
 * A read-only pool always holds (nothing can be written to it); a degraded
 * pool holds or not as the policy says for its role. Device errors and low
 * space are recorded, never held for: the receiver checks free space itself.
 */
export function decide(findings: readonly HealthFinding[], policy: HealthPolicy = defaultHealthPolicy): HealthDecision {
  const holds: string[] = [];
  const notes: string[] = [];
  for (const finding of findings) {
    if (finding.code === 'POOL_READ_ONLY') {
      holds.push(`${finding.message}: holding the run until it is mounted read-write again`);
    }
  }
  for (const role of ['source', 'target'] as const) {
    const degraded = findings.find((f) => f.pool === role && f.code === 'POOL_DEGRADED');
    if (!degraded) continue;
    const choice = role === 'source' ? policy.onDegradedSource : policy.onDegradedTarget;
    if (role === 'source') {
      if (choice === 'hold') {
        holds.push(`${degraded.message}: holding the run until it is repaired, as the task's policy says; set it to 'replicate' to replicate anyway`);
      } else {
        notes.push(`${degraded.message}: replicating anyway, since a fresh copy matters most now; set the task's policy to 'hold' to wait for a repair`);
      }
    } else if (choice === 'hold') {
      holds.push(`${degraded.message}: holding writes until it is repaired; set the task's policy to 'replicate' to write anyway`);
    } else {
      notes.push(`${degraded.message}: writing anyway, as the task's policy says, though the new copy has no redundancy until the pool is repaired`);
    }
  }
  if (holds.length > 0) return { proceed: false, reason: holds.join('; ') };
  return { proceed: true, reason: notes.length > 0 ? notes.join('; ') : null };
}

/** The findings as one line for a trail: "warning POOL_DEGRADED: the source pool is degraded (...)", joined by "; "; null if none. */
export function describeFindings(findings: readonly HealthFinding[]): string | null {
  if (findings.length === 0) return null;
  return findings.map((f) => `${f.severity} ${f.code}: ${f.message}`).join('; ');
}
