// The live event stream (GET /api/v1/events): every run queued or under way,
// then every change of one, with the daemon's measured rate and ETA. Pages
// read the runs from here instead of polling.
//
// A run that ended stays listed for a minute with its end state, so a run
// that finishes between two glances is still seen to have finished. The
// browser's EventSource reconnects by itself when a connection drops; when
// the server refuses it (a 401 after the session ended, a restart), it gives
// up, so the hook opens a new one after a pause and asks the session first.

import { useEffect, useState } from 'preact/hooks';
import { RunEvent } from '../../api/views.js';
import { EVENTS_PATH } from './api.js';

export interface LiveRun extends RunEvent {
  /** When this page last heard of the run (ms): an ended run is dropped a while after. */
  readonly seenAt: number;
}

export interface LiveRuns {
  /** By run id. */
  readonly runs: ReadonlyMap<string, LiveRun>;
  readonly connected: boolean;
  /** Counts runs that ended while the page listened: a page reloads what a run changes when it moves. */
  readonly ended: number;
}

const KEEP_ENDED_MS = 60_000;
const RECONNECT_MS = 3_000;

export function isActive(state: RunEvent['run']['state']): boolean {
  return state === 'queued' || state === 'running';
}

/** The newest run of a task that this page heard of, if any. */
export function runOfTask(live: LiveRuns, task: string): LiveRun | undefined {
  let newest: LiveRun | undefined;
  for (const run of live.runs.values()) if (run.run.task === task && (newest === undefined || run.run.startedAt > newest.run.startedAt)) newest = run;
  return newest;
}

export function useLiveRuns(enabled: boolean, checkSession: () => void): LiveRuns {
  const [state, setState] = useState<LiveRuns>({ runs: new Map(), connected: false, ended: 0 });
  useEffect(() => {
    if (!enabled) return;
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let closed = false;
    const open = () => {
      source = new EventSource(EVENTS_PATH);
      source.addEventListener('open', () => {
        // The stream starts with every run queued or under way: what the page held as active and is not resent has ended meanwhile.
        setState((s) => ({ ...s, connected: true, runs: new Map([...s.runs].filter(([, r]) => !isActive(r.run.state))) }));
      });
      source.addEventListener('run', (message: MessageEvent<string>) => {
        let event: RunEvent;
        try {
          event = RunEvent.parse(JSON.parse(message.data));
        } catch {
          return;
        }
        setState((s) => {
          const runs = new Map(s.runs);
          const before = runs.get(event.run.id);
          runs.set(event.run.id, { ...event, seenAt: Date.now() });
          const justEnded = !isActive(event.run.state) && (before === undefined || isActive(before.run.state));
          return { ...s, runs, ended: justEnded ? s.ended + 1 : s.ended };
        });
      });
      source.addEventListener('error', () => {
        setState((s) => (s.connected ? { ...s, connected: false } : s));
        if (source?.readyState === EventSource.CLOSED && !closed) {
          source.close();
          checkSession();
          retry = setTimeout(open, RECONNECT_MS);
        }
      });
    };
    open();
    const sweep = setInterval(() => {
      const cutoff = Date.now() - KEEP_ENDED_MS;
      setState((s) => {
        const stale = [...s.runs.values()].filter((r) => !isActive(r.run.state) && r.seenAt < cutoff);
        if (stale.length === 0) return s;
        const runs = new Map(s.runs);
        for (const r of stale) runs.delete(r.run.id);
        return { ...s, runs };
      });
    }, 10_000);
    return () => {
      closed = true;
      source?.close();
      clearTimeout(retry);
      clearInterval(sweep);
    };
  }, [enabled, checkSession]);
  return state;
}
