// The messages between the daemon and its maintenance jobs, declared once: what
// each job is given (workerData) and what it reports back. Checked with zod on
// the way in, as anything that crosses a thread is.

import { z } from 'zod';
import { healthSeverities } from '../../domain/vocabulary.js';

export const JobData = z.strictObject({
  databasePath: z.string().min(1),
  trails: z.strictObject({ keepDays: z.number().int().min(1), keepPerTask: z.number().int().min(1) }),
});
export type JobData = z.infer<typeof JobData>;

const Finding = z.strictObject({ severity: z.enum(healthSeverities), code: z.string(), message: z.string() });

/** A pool's size and free space (btrfs' estimate), as the health check read them; null when it could not. */
const Space = z.strictObject({ sizeBytes: z.number(), freeBytes: z.number() }).nullable();

export const JobReport = z.discriminatedUnion('job', [
  z.strictObject({ job: z.literal('trails'), send: z.number().int(), receive: z.number().int() }),
  z.strictObject({ job: z.literal('purge'), nonces: z.number().int(), invites: z.number().int() }),
  z.strictObject({ job: z.literal('sweep'), staging: z.array(z.string()) }),
  z.strictObject({
    job: z.literal('health'),
    checkedAt: z.string(),
    pools: z.array(z.strictObject({ name: z.string(), findings: z.array(Finding), space: Space })),
    sources: z.array(z.strictObject({ task: z.string(), findings: z.array(Finding), space: Space })),
  }),
]);
export type JobReport = z.infer<typeof JobReport>;
export type HealthReport = Extract<JobReport, { job: 'health' }>;
