import type { Children } from "@kitajs/html";
import { formatDateTime, isoOrEmpty } from "./format.ts";

export function PageHeader(props: { title: string; subtitle?: string; children?: Children }) {
  return (
    <div class="page-header">
      <div>
        <h1 safe>{props.title}</h1>
        {props.subtitle ? (
          <p class="subtitle" safe>
            {props.subtitle}
          </p>
        ) : (
          ""
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

/** A UTC timestamp that app.js re-renders in the browser's locale and time zone. */
export function Time(props: { value: Date | string | null | undefined }) {
  const iso = isoOrEmpty(props.value);
  if (!iso) return <span class="muted">—</span>;
  return (
    <time datetime={iso} data-local safe>
      {formatDateTime(props.value)}
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
