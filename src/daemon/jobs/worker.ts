// What every maintenance job shares: it runs in one of bree's worker threads,
// opens its own connection to the store (the main thread keeps its own),
// does its one thing, posts what it found for the main thread, and ends.

import { parentPort, workerData } from 'node:worker_threads';
import { openStore, type Store } from '../../store/index.js';
import type { JobData, JobReport } from './reports.js';

export async function runJob(work: (store: Store, data: JobData) => Promise<JobReport> | JobReport): Promise<void> {
  const data = (workerData as { job?: unknown; data?: JobData } | null)?.data;
  if (!data) throw new Error('a maintenance job needs its workerData');
  const store = openStore(data.databasePath);
  try {
    parentPort?.postMessage(await work(store, data));
  } finally {
    store.close();
  }
  parentPort?.postMessage('done');
}
