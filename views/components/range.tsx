import type { Children } from "@kitajs/html";
import type { FormErrors } from "../context.ts";
import { TextField } from "./form.tsx";
import { getForm, nav } from "./hx.ts";

/** Quick ranges ending now; their names are what the pages' `range` parameter takes. */
export const QUICK_RANGES = [
  { value: "1h", label: "Last 1 h" },
  { value: "24h", label: "Last 24 h" },
  { value: "7d", label: "Last 7 days" },
] as const;

/** The bar above a page's figures: quick-range links (the current one marked), then the page's own controls. */
export function RangeBar(props: { presets: { label: string; href: string; current: boolean }[]; children?: Children }) {
  return (
    <div class="range-bar">
      <nav class="presets" aria-label="Quick ranges">
        {props.presets.map((p) => (
          <a class={p.current ? "chip-link active" : "chip-link"} aria-current={p.current ? "true" : undefined} {...nav(p.href)} safe>
            {p.label}
          </a>
        ))}
      </nav>
      {props.children}
    </div>
  );
}

interface FromTo {
  from: string;
  to: string;
  errors: FormErrors;
  /** Whole UTC days (usage); otherwise a day with an optional time (logs, health). */
  days?: boolean;
}

/** From and To as typed. */
export function FromToFields(props: FromTo) {
  const [from, to] = props.days ? ["e.g. 2026-01-01", "e.g. 2026-01-31"] : ["e.g. 2026-01-31T09:00", "e.g. 2026-01-31T18:00"];
  return (
    <>
      <TextField name="from" label="From (UTC)" value={props.from} errors={props.errors} placeholder={from} maxlength={40} />
      <TextField name="to" label="To (UTC)" value={props.to} errors={props.errors} placeholder={to} maxlength={40} />
    </>
  );
}

/** The range form beside the quick ranges; its button is a plain GET submit, so no htmx spinner. */
export function RangeForm(props: FromTo & { action: string; label: string }) {
  return (
    <form {...getForm(props.action)} class="filters filters-compact" aria-label={props.label}>
      <FromToFields {...props} />
      <div class="filter-actions">
        <button type="submit" class="btn btn-primary">
          Show
        </button>
      </div>
    </form>
  );
}
