// A progress bar against an estimate. The width is set through the DOM's
// style object, which the Content-Security-Policy allows (a style attribute
// written in HTML it would not).

import { formatBytes } from '../format.js';

export function ProgressBar(props: { value: number; max: number | null; label: string }) {
  const known = props.max !== null && props.max > 0;
  const ratio = known ? Math.min(1, props.value / (props.max as number)) : 0;
  const percent = Math.round(ratio * 100);
  return (
    <div
      class={known ? 'progress' : 'progress progress-unknown'}
      role="progressbar"
      aria-label={props.label}
      aria-valuemin={0}
      aria-valuemax={known ? 100 : undefined}
      aria-valuenow={known ? percent : undefined}
      aria-valuetext={known ? `${percent}%, ${formatBytes(props.value)} of ${formatBytes(props.max as number)}` : `${formatBytes(props.value)}, size not known yet`}
    >
      <div class="progress-fill" style={{ width: known ? `${ratio * 100}%` : undefined }} />
    </div>
  );
}
