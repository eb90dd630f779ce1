import type { Children } from "@kitajs/html";

/**
 * A data table in its scroll box (keyboard-focusable, named for screen readers). The last column,
 * when `actions` is set, holds row buttons and has only a hidden header.
 */
export function DataTable(props: { label: string; columns: string[]; actions?: boolean; class?: string; children?: Children }) {
  return (
    <div class="table-wrap" tabindex="0" role="region" aria-label={props.label}>
      <table class={props.class ? `table ${props.class}` : "table"}>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col" safe>
                {c}
              </th>
            ))}
            {props.actions ? (
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            ) : (
              ""
            )}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
