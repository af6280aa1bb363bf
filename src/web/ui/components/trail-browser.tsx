// A trail, page by page: filters (status, time range) checked with the API's
// TrailQuery schema, and keyset paging: Older asks for the attempts after the
// last one shown (`before`), Newer goes back to the page before, from a stack
// of those cursors. Each page costs the same, 50 rows, however long the
// trail: no offset scan over 100,000 entries.

import { useEffect, useState } from 'preact/hooks';
import { TrailQuery } from '../../../api/schemas.js';
import { useApp } from '../context.js';
import { fromLocalInput } from '../format.js';
import { useLoad, useNow } from '../hooks.js';
import { isActive, type LiveRun } from '../live.js';
import { check, type FieldErrors } from '../validation.js';
import { Button } from './button.js';
import { EmptyState } from './card.js';
import { SelectField, TextField } from './fields.js';
import { Loaded } from './loading.js';
import { TrailTable, type TrailEntry } from './trail-table.js';

export const PAGE_SIZE = 50;

const statusOptions = [
  ['', 'Any status'],
  ['running', 'running'],
  ['succeeded', 'succeeded'],
  ['failed', 'failed'],
  ['interrupted', 'interrupted'],
  ['cancelled', 'cancelled'],
] as const;

interface Filters {
  readonly status: string;
  readonly since: string;
  readonly until: string;
}

const noFilters: Filters = { status: '', since: '', until: '' };

function queryOf(filters: Filters, task: string | undefined): unknown {
  return {
    ...(task === undefined ? {} : { task }),
    ...(filters.status === '' ? {} : { status: filters.status }),
    ...(filters.since === '' ? {} : { since: fromLocalInput(filters.since) }),
    ...(filters.until === '' ? {} : { until: fromLocalInput(filters.until) }),
  };
}

export function TrailBrowser(props: {
  direction: 'send' | 'receive';
  /** Only this task's attempts (send trail of a task). */
  task?: string;
  /** The task's live run: its running attempt's bytes move without a reload. */
  liveRun?: LiveRun | undefined;
  /** Changes when the trail changed (a run started or ended): the newest page reloads. */
  refreshKey?: string;
  peerNames?: ReadonlyMap<string, string> | undefined;
}) {
  const { api } = useApp();
  const now = useNow(10_000);
  const [draft, setDraft] = useState<Filters>(noFilters);
  const [applied, setApplied] = useState<TrailQuery>(() => (props.task === undefined ? {} : { task: props.task }));
  const [errors, setErrors] = useState<FieldErrors>({});
  // cursors[i] is the `before` of page i; page 0 (the newest) has none.
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const before = cursors[cursors.length - 1];
  const onNewest = cursors.length === 0;

  const state = useLoad(async () => {
    const query: TrailQuery = { ...applied, limit: PAGE_SIZE + 1, ...(before === undefined ? {} : { before }) };
    return props.direction === 'send' ? api.sendTrail(query) : api.receiveTrail(query);
  }, [api, applied, before, props.direction, onNewest ? props.refreshKey : '']);

  const [shown, setShown] = useState<readonly TrailEntry[]>([]);
  useEffect(() => {
    if (state.data !== undefined) setShown(state.data.slice(0, PAGE_SIZE));
  }, [state.data]);
  const hasOlder = (state.data?.length ?? 0) > PAGE_SIZE;

  const apply = (e: Event) => {
    e.preventDefault();
    const result = check(TrailQuery, queryOf(draft, props.task));
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    if (result.value.since !== undefined && result.value.until !== undefined && result.value.since >= result.value.until) {
      setErrors({ until: 'Until must be after since.' });
      return;
    }
    setErrors({});
    setCursors([]);
    setApplied(result.value);
  };
  const clear = () => {
    setDraft(noFilters);
    setErrors({});
    setCursors([]);
    setApplied(props.task === undefined ? {} : { task: props.task });
  };

  const live = props.liveRun;
  const entries = live !== undefined && isActive(live.run.state) ? shown.map((e) => (e.status === 'running' && e.task === live.run.task ? { ...e, bytes: Math.max(e.bytes, live.run.bytes) } : e)) : shown;
  const filtered = applied.status !== undefined || applied.since !== undefined || applied.until !== undefined;
  const first = cursors.length * PAGE_SIZE + 1;

  return (
    <div class="trail-browser">
      <form class="filters" onSubmit={apply} aria-label={`Filter the ${props.direction} trail`}>
        <SelectField label="Status" value={draft.status} onValue={(status) => setDraft({ ...draft, status })} options={statusOptions} error={errors.status} />
        <TextField label="Since" type="datetime-local" value={draft.since} onValue={(since) => setDraft({ ...draft, since })} error={errors.since} />
        <TextField label="Until" type="datetime-local" value={draft.until} onValue={(until) => setDraft({ ...draft, until })} error={errors.until} />
        <div class="filter-buttons">
          <Button type="submit" variant="primary" small>
            Apply filters
          </Button>
          <Button small onClick={clear} disabled={!filtered && draft === noFilters}>
            Clear
          </Button>
        </div>
      </form>
      {/* While another page or filter loads, the rows shown are the old ones: dimmed, and marked busy. */}
      <div class={state.loading && state.data !== undefined ? 'trail-rows is-loading' : 'trail-rows'} aria-busy={state.loading}>
        <Loaded state={state} what={`the ${props.direction} trail`}>
          {() =>
            entries.length === 0 ? (
              <EmptyState title={filtered ? 'No attempts match these filters.' : `No ${props.direction === 'send' ? 'send' : 'receive'} attempts yet.`}>
                {filtered ? 'Clear the filters to see every attempt.' : props.direction === 'send' ? 'Each run of a task adds its attempts here.' : 'Attempts of peers sending to this appliance show here.'}
              </EmptyState>
            ) : (
              <TrailTable entries={entries} now={now} showTask={props.task === undefined} direction={props.direction} peerNames={props.peerNames} />
            )
          }
        </Loaded>
      </div>
      {/* An empty trail says so above: no pager under it. */}
      {(entries.length > 0 || !onNewest) && (
        <nav class="pager" aria-label={`Pages of the ${props.direction} trail`}>
          <Button small disabled={onNewest} onClick={() => setCursors(cursors.slice(0, -1))}>
            Newer
          </Button>
          <span class="pager-info" aria-live="polite">
            {entries.length === 0 ? 'No attempts' : `Attempts ${first}–${first + entries.length - 1}, newest first`}
            {state.loading && ' (loading)'}
          </span>
          <Button
            small
            disabled={!hasOlder}
            onClick={() => {
              const last = shown[shown.length - 1];
              if (last !== undefined) setCursors([...cursors, last.id]);
            }}
          >
            Older
          </Button>
        </nav>
      )}
    </div>
  );
}
