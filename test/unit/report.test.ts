import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AttemptSummary, taskHealth } from '../../src/domain/report.js';
import { trailStatuses } from '../../src/domain/trail.js';

const now = new Date('2026-11-21T21:00:00.000Z');
const ok = (endedAt = '2026-11-21T20:00:00.000Z'): AttemptSummary => ({ status: 'succeeded', errorCode: null, error: null, endedAt });
const fail = (error = 'btrfs send failed\nERROR: send ioctl failed', errorCode: string | null = 'SEND_FAILED', endedAt: string | null = '2026-11-21T19:00:00.000Z'): AttemptSummary => ({
  status: 'failed',
  errorCode,
  error,
  endedAt,
});
const running: AttemptSummary = { status: 'running', errorCode: null, error: null, endedAt: null };
const interrupted: AttemptSummary = { status: 'interrupted', errorCode: null, error: null, endedAt: '2026-11-21T20:59:30.000Z' };
const cancelled: AttemptSummary = { status: 'cancelled', errorCode: 'CANCELLED', error: 'cancelled by the admin (ferry task cancel)', endedAt: '2026-11-21T20:59:40.000Z' };

describe('taskHealth', () => {
  it.each<[string, AttemptSummary[], string, number, string | null]>([
    ['never run', [], 'never-run', 0, null],
    ['one success', [ok()], 'ok', 0, null],
    ['success after failures', [ok(), fail(), fail(), fail()], 'ok', 0, null],
    ['first run under way', [running], 'running', 0, null],
    ['running after a success', [running, ok()], 'running', 0, null],
    ['running after a failure', [running, fail(), ok()], 'running', 1, 'retrying after 1 failed attempt in a row: SEND_FAILED: btrfs send failed'],
    ['one failure', [fail(), ok()], 'failing', 1, '1 failed attempt in a row: SEND_FAILED: btrfs send failed (last attempt 2h ago)'],
    ['two failures', [fail('no space', 'NO_SPACE'), fail(), ok()], 'failing', 2, '2 failed attempts in a row: NO_SPACE: no space'],
    ['three failures', [fail('peer unreachable', 'INTERNAL'), fail(), fail()], 'needs-attention', 3, '3 failed attempts in a row: INTERNAL: peer unreachable'],
    ['three failures then running', [running, fail(), fail(), fail(), ok()], 'needs-attention', 3, 'another attempt is running'],
    ['many failures, never succeeded', [fail(), fail(), fail(), fail(), fail()], 'needs-attention', 5, '5 failed attempts'],
    ['interrupted counts as a failure', [interrupted, ok()], 'failing', 1, 'INTERRUPTED (last attempt 30s ago)'],
    ['crash loop', [interrupted, interrupted, interrupted], 'needs-attention', 3, 'INTERRUPTED'],
    ['a cancel is neither a failure nor a success', [cancelled, ok()], 'ok', 0, null],
    ['cancels between failures count for nothing', [fail(), cancelled, fail(), cancelled, fail()], 'needs-attention', 3, '3 failed attempts'],
    ['stale running row among failures', [fail(), running, fail(), fail()], 'needs-attention', 3, '3 failed attempts'],
    ['failure without an error text', [fail('', null), ok()], 'failing', 1, 'no error recorded'],
    ['failure without an end time', [fail('boom', 'INTERNAL', null)], 'failing', 1, 'INTERNAL: boom (last attempt)'],
    ['end time in the future', [fail('boom', 'INTERNAL', '2026-11-22T00:00:00.000Z')], 'failing', 1, 'at 2026-11-22T00:00:00.000Z'],
    ['ended this very second', [fail('boom', 'INTERNAL', now.toISOString())], 'failing', 1, 'just now'],
    ['days ago', [fail('boom', 'INTERNAL', '2026-11-18T20:00:00.000Z')], 'failing', 1, '3d ago'],
  ])('%s', (_label, recent, state, failures, reason) => {
    const health = taskHealth(recent, now);
    expect(health.state).toBe(state);
    expect(health.consecutiveFailures).toBe(failures);
    if (reason === null) expect(health.reason).toBeNull();
    else expect(health.reason).toContain(reason);
  });

  it('the reason shows only the first line of the error, not the stderr after it', () => {
    const health = taskHealth([fail()], now);
    expect(health.reason).not.toContain('ioctl');
  });
});

const attempt: fc.Arbitrary<AttemptSummary> = fc.record({
  status: fc.constantFrom(...trailStatuses),
  errorCode: fc.option(fc.constantFrom('SEND_FAILED', 'NO_SPACE')),
  error: fc.option(fc.string()),
  endedAt: fc.option(fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
});

describe('taskHealth properties', () => {
  it('state follows the count of failures since the last success', () => {
    fc.assert(
      fc.property(fc.array(attempt, { maxLength: 12 }), (recent) => {
        const health = taskHealth(recent, now);
        const success = recent.findIndex((a) => a.status === 'succeeded');
        const sinceSuccess = success === -1 ? recent : recent.slice(0, success);
        const failures = sinceSuccess.filter((a) => a.status === 'failed' || a.status === 'interrupted').length;
        expect(health.consecutiveFailures).toBe(recent.length === 0 ? 0 : failures);
        if (recent.length === 0) expect(health.state).toBe('never-run');
        else if (failures >= 3) expect(health.state).toBe('needs-attention');
        else if (recent[0]?.status === 'running') expect(health.state).toBe('running');
        else if (failures > 0) expect(health.state).toBe('failing');
        else expect(health.state).toBe('ok');
        expect(health.reason === null).toBe(failures === 0);
      }),
    );
  });
});

describe('taskHealth of a task whose peer was unpaired', () => {
  it.each<[string, AttemptSummary[]]>([
    ['last run succeeded', [ok()]],
    ['never run', []],
    ['failing', [fail(), ok()]],
  ])('needs attention whatever its trail says (%s)', (_label, recent) => {
    const health = taskHealth(recent, now, { peerPaired: false });
    expect(health.state).toBe('needs-attention');
    expect(health.reason).toMatch(/peer is no longer paired/);
    expect(taskHealth(recent, now, { peerPaired: true })).toEqual(taskHealth(recent, now));
  });
});
