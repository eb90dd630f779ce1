import type { Children } from "@kitajs/html";
import { formatDateTime, isoOrEmpty } from "./format.ts";

export function PageHeader(props: { title: string; subtitle?: string; children?: Children }) {
  return (
    <div class="page-header">
      <div>
        <h1 safe>{props.title}</h1>
        {!!props.subtitle && (
          <p class="subtitle" safe>
            {props.subtitle}
          </p>
        )}
      </div>
      <div class="page-actions">{props.children}</div>
    </div>
  );
}

/** What an empty list shows: what this is, and the one thing to do next. */
export function EmptyState(props: { title: string; children?: Children }) {
  return (
    <div class="empty">
      <p class="empty-title" safe>
        {props.title}
      </p>
      {props.children}
    </div>
  );
}

export function Badge(props: { tone: "ok" | "warn" | "error" | "muted" | "info"; label: string }) {
  return (
    <span class={`badge badge-${props.tone}`} safe>
      {props.label}
    </span>
  );
}

/** A second, smaller line under a cell's or item's main text; nothing when `text` is empty. */
export function Sub(props: { text: string | false | null | undefined }) {
  return props.text ? (
    <span class="sub" safe>
      {props.text}
    </span>
  ) : (
    ""
  );
}

/** A timestamp, in UTC with seconds and the zone label (see format.ts for why always UTC). */
export function Time(props: { value: Date | string | null | undefined }) {
  const iso = isoOrEmpty(props.value);
  if (!iso) return <span class="muted">—</span>;
  return (
    <time datetime={iso} safe>
      {formatDateTime(props.value)}
    </time>
  );
}

/** The same, with the date above the clock ("2026-11-26" / "07:57:03 UTC") for narrow columns. */
export function StackedTime(props: { value: Date | string | null | undefined }) {
  const iso = isoOrEmpty(props.value);
  if (!iso) return <span class="muted">—</span>;
  const [date, clock] = formatDateTime(props.value).split(" ", 2) as [string, string];
  return (
    <time datetime={iso} class="time-stacked">
      <span class="time-date" safe>
        {date}
      </span>{" "}
      <span safe>{`${clock} UTC`}</span>
    </time>
  );
}

export function Notice(props: { tone: "success" | "error" | "info"; children?: Children }) {
  return (
    <div class={`alert alert-${props.tone}`} role={props.tone === "error" ? "alert" : "status"}>
      {props.children}
    </div>
  );
}

/** The success message after an action (it may quote user data); nothing when there is none. */
export function Flash(props: { text?: string | null }) {
  if (!props.text) return "";
  return (
    <Notice tone="success">
      <span safe>{props.text}</span>
    </Notice>
  );
}

/** A value to copy once (a new key, an invitation link): selected on focus, with a copy button for JavaScript. */
export function CopyRow(props: { id: string; label: string; value: string; button: string; hidden?: boolean }) {
  return (
    <div class="copy-row">
      <label for={props.id} class="visually-hidden" safe>
        {props.label}
      </label>
      <input id={props.id} class="mono" type="text" readonly value={props.value} data-select-on-focus />
      <button type="button" class="btn btn-primary" data-copy={`#${props.id}`} hidden={props.hidden} safe>
        {props.button}
      </button>
    </div>
  );
}
