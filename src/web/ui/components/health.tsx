// A pool's health, as the last maintenance check found it: one badge for the
// gravest finding, and the findings in words.

import type { HealthView } from '../../../api/views.js';
import { worstSeverity } from '../freshness.js';
import { Badge, SeverityBadge } from './badge.js';

export function HealthBadge(props: { health: HealthView | null }) {
  if (props.health === null) return <Badge tone="neutral">not checked yet</Badge>;
  const worst = worstSeverity(props.health);
  if (worst === null || worst === 'info') return <Badge tone="ok">healthy</Badge>;
  return <Badge tone={worst === 'critical' ? 'bad' : 'warn'}>{worst === 'critical' ? 'critical' : 'degraded'}</Badge>;
}

export function Findings(props: { health: HealthView | null }) {
  if (props.health === null || props.health.findings.length === 0) return null;
  return (
    <ul class="findings">
      {props.health.findings.map((f) => (
        <li key={`${f.code}:${f.message}`}>
          <SeverityBadge severity={f.severity} /> {f.message} <code class="code">{f.code}</code>
        </li>
      ))}
    </ul>
  );
}
