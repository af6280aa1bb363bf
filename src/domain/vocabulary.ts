// Closed sets of words that records and answers use, declared once: the zod
// schemas (src/api/views.ts), the metrics and the maintenance reports derive
// from these lists. A leaf: the web UI's bundle imports it, so it imports
// nothing (the trail's own lists are in trail.ts, a leaf too).

/** How serious a pool health finding is. */
export const healthSeverities = ['info', 'warning', 'critical'] as const;
export type HealthSeverity = (typeof healthSeverities)[number];

/** What a writable copy of a replica was made for: a promoted share, a test-failover clone, a restored share. */
export const copyKinds = ['promote', 'clone', 'restore'] as const;
export type CopyKind = (typeof copyKinds)[number];
