import type { Children } from "@kitajs/html";

/** A column header: its text, or num(text) for right-aligned figures. */
type Column = string | { label: string; num: true };

export const num = (label: string): Column => ({ label, num: true });

/**
 * A data table in its scroll box (keyboard-focusable, named for screen readers). The last column,
 * when `actions` is set, holds row buttons and has only a hidden header.
 *
 * Below 640px the rows become cards (app.css, `.table-cards`): each cell on its own line with its
 * column label from `data-label` (use Cell). Display changes make some browsers drop
 * the table from the accessibility tree, so the roles are spelled out.
 */
export function DataTable(props: { label: string; columns: Column[]; actions?: boolean; class?: string; children?: Children }) {
  return (
    <div class="table-wrap" tabindex="0" role="region" aria-label={props.label}>
      <table class={props.class ? `table table-cards ${props.class}` : "table table-cards"} role="table">
        <thead role="rowgroup">
          <tr role="row">
            {props.columns.map((c) => (
              <th scope="col" role="columnheader" class={typeof c === "string" ? undefined : "num"} safe>
                {typeof c === "string" ? c : c.label}
              </th>
            ))}
            {props.actions && (
              <th scope="col" role="columnheader">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody role="rowgroup">{props.children}</tbody>
      </table>
    </div>
  );
}

/** A body row; `href` makes the whole row open that page (app.js), its first link stays the real one. */
export function Row(props: { class?: string; href?: string; children?: Children }) {
  return (
    <tr role="row" class={props.class || undefined} data-row-href={props.href}>
      {props.children}
    </tr>
  );
}

/**
 * A data cell that carries its column label for the phone card layout; `header` makes it the row's
 * name (a row header for screen readers). `text` is the cell's main text, then the children say what else there is.
 */
export function Cell(props: { label: string; class?: string; text?: string; title?: string; header?: boolean; children?: Children }) {
  const Tag = props.header ? "th" : "td";
  return (
    <Tag
      scope={props.header ? "row" : undefined}
      role={props.header ? "rowheader" : "cell"}
      data-label={props.label}
      class={props.class || undefined}
      title={props.title}
    >
      {props.text !== undefined && <span safe>{props.text}</span>}
      {props.children}
    </Tag>
  );
}

/** The row's buttons; no label on phones, the buttons say what they do. */
export function ActionsCell(props: { children?: Children }) {
  return (
    <td role="cell" class="actions">
      {props.children}
    </td>
  );
}
