// The UI's tables: column headings over the rows, scrolling sideways where a
// wide table does not fit, and on a phone one block per row, each cell with
// its column's name (data-label) beside it (styles.css, `.table.stack`).

import type { ComponentChildren } from 'preact';

/** A column's heading: its name, or the name with `num` (right-aligned figures) or a heading other than the name. */
export type Column = string | { readonly label: string; readonly num?: boolean; readonly heading?: ComponentChildren };

export function Table(props: { columns: readonly Column[]; class?: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class={props.class === undefined ? 'table stack' : `table stack ${props.class}`}>
        <thead>
          <tr>
            {props.columns.map((c) =>
              typeof c === 'string' ? (
                <th key={c} scope="col">
                  {c}
                </th>
              ) : (
                <th key={c.label} scope="col" class={c.num ? 'num' : undefined}>
                  {c.heading ?? c.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
