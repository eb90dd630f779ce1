import type { Children } from "@kitajs/html";
import { formatDateTime, isoOrEmpty } from "./format.ts";
import { nav } from "./hx.ts";

export function PageHeader(props: { title: string; subtitle?: string; children?: Children }) {
  return (
    <div class="page-header">
      <div>
        <h1 safe>{props.title}</h1>
        <Text tag="p" class="subtitle" text={props.subtitle} />
      </div>
      <div class="page-actions">{props.children}</div>
    </div>
  );
}

/** What an empty list shows: what this is, and the one thing to do next. */
export function EmptyState(props: { title: string; children?: Children }) {
  return (
    <div class="empty">
      <Text tag="p" class="empty-title" text={props.title} />
      {props.children}
    </div>
  );
}

export function Badge(props: { tone: "ok" | "warn" | "error" | "muted" | "info"; label: string }) {
  return <Text class={`badge badge-${props.tone}`} text={props.label} />;
}

type MaybeText = string | false | null | undefined;

/** Text (escaped) in an element of its own; nothing at all when there is no text. */
export function Text(props: { text: MaybeText; tag?: "span" | "p" | "code" | "dd"; class?: string; id?: string }) {
  const Tag = props.tag ?? "span";
  return props.text ? (
    <Tag class={props.class} id={props.id} safe>
      {props.text}
    </Tag>
  ) : (
    ""
  );
}

/** A second, smaller line under a cell's or item's main text; nothing when `text` is empty. */
export function Sub(props: { text: MaybeText }) {
  return <Text class="sub" text={props.text} />;
}

/** A link that looks like a button and navigates like every dashboard link (see nav). */
export function NavButton(props: { href: string; label: string; class?: string; aria?: string; rel?: string }) {
  return (
    <a class={`btn ${props.class ?? "btn-secondary"}`} rel={props.rel} {...nav(props.href)} aria-label={props.aria} safe>
      {props.label}
    </a>
  );
}

/**
 * A timestamp, in UTC with seconds and the zone label (see format.ts for why always UTC); `stacked`
 * puts the date above the clock ("2026-11-26" / "07:57:03 UTC") for narrow columns.
 */
export function Time(props: { value: Date | string | null | undefined; stacked?: boolean }) {
  const iso = isoOrEmpty(props.value);
  if (!iso) return <span class="muted">—</span>;
  if (!props.stacked) {
    return (
      <time datetime={iso} safe>
        {formatDateTime(props.value)}
      </time>
    );
  }
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
