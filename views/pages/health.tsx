import type { FormErrors, ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { nav } from "../components/hx.ts";
import { QUICK_RANGES, RangeBar, RangeForm } from "../components/range.tsx";
import { EmptyState, PageHeader, Sub } from "../components/ui.tsx";
import { formatClock, formatDateTime, formatInt, formatMs, formatPercent, isoMinute } from "../components/format.ts";
import { Cell, DataTable, num, Row } from "../components/table.tsx";
import type { HealthReport, ProviderHealth } from "../../src/logs/health.ts";

interface HealthProps {
  ctx: ViewContext;
  /** The range as typed (from, to) or picked (range). */
  values: { from: string; to: string; range: string };
  errors: FormErrors;
  /** null when the range did not parse. */
  report: HealthReport | null;
  now: Date;
}

const EVERY_ATTEMPT = "Every attempt counts, also those another provider had to take over.";

const COLUMNS = [
  "Provider",
  num("Attempts"),
  num("Failed"),
  "Failures by class",
  num("Fallback rate"),
  num("Latency p50"),
  num("p95"),
  "Now",
];

/** A tally of failures (by class or status), largest first. */
const byCount = (m: ProviderHealth["failures_by_class"]) => Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));

/** Provider health: every entry's attempts over a range, read from the attempt trails of the logs. */
export function HealthPage(props: HealthProps) {
  const { ctx, values, errors, report } = props;
  const w = ctx.workspace!;
  const base = `/app/w/${encodeURIComponent(w.id)}/health`;
  const typed = values.from !== "" || values.to !== "";
  const current = typed ? "" : values.range || "24h";
  return (
    <Layout ctx={ctx} title={`Provider health · ${w.name}`} section="health">
      <PageHeader
        title="Provider health"
        subtitle={report ? `${formatDateTime(report.from)} to ${formatDateTime(report.to)}. ${EVERY_ATTEMPT}` : EVERY_ATTEMPT}
      />
      <RangeBar presets={QUICK_RANGES.map((r) => ({ label: r.label, href: `${base}?range=${r.value}`, current: current === r.value }))}>
        <RangeForm
          action={base}
          label="Time range"
          from={values.from || isoMinute(report?.from)}
          to={values.to || isoMinute(report?.to)}
          errors={errors}
        />
      </RangeBar>
      {!report ? (
        <div class="alert alert-error" role="alert" data-focus tabindex="-1">
          <p>Please fix the highlighted fields.</p>
        </div>
      ) : report.providers.length === 0 ? (
        <EmptyState title="No providers yet">
          <p>
            Add one on the <a {...nav(`/app/w/${encodeURIComponent(w.id)}/providers`)}>Providers</a> page; its attempts show here.
          </p>
        </EmptyState>
      ) : (
        <>
          <DataTable label="Provider health" class="table-health" columns={COLUMNS}>
            {report.providers.map((p) => (
              <Row class={p.attempts > 0 && p.successes === 0 ? "row-error" : ""}>
                <Cell header label="Provider" text={p.provider_name}>
                  <Sub text={!p.configured ? "deleted since" : p.enabled === false && "disabled"} />
                </Cell>
                <Cell label="Attempts" class="num" text={formatInt(p.attempts)}>
                  <Sub text={p.requests !== p.attempts && `in ${formatInt(p.requests)} requests`} />
                </Cell>
                <Cell label="Failed" class="num" text={formatInt(p.failures)}>
                  <Sub text={p.attempts > 0 && formatPercent(p.failures / p.attempts)} />
                </Cell>
                <Cell label="Failures by class">
                  {p.failures === 0 ? (
                    <span class="muted">—</span>
                  ) : (
                    <span class="class-list">
                      {byCount(p.failures_by_class).map(([cls, n]) => (
                        <span class="badge badge-error" safe>{`${cls} ${formatInt(n)}`}</span>
                      ))}
                      <Sub
                        text={byCount(p.failures_by_status)
                          .map(([k, n]) => `${k === "none" ? "no response" : k} ${formatInt(n)}`)
                          .join(" · ")}
                      />
                    </span>
                  )}
                </Cell>
                <Cell label="Fallback rate" class="num" text={formatPercent(p.fallback_rate)}>
                  <Sub text={p.fallbacks > 0 && `${formatInt(p.fallbacks)} of ${formatInt(p.requests)}`} />
                </Cell>
                <Cell label="Latency p50" class="num" text={formatMs(p.latency_p50_ms)} />
                <Cell label="p95" class="num" text={formatMs(p.latency_p95_ms)} />
                <Cell label="Now">
                  {p.cooling_until ? (
                    <>
                      <span class="badge badge-warn">Cooling down</span>
                      <Sub text={`until ${formatClock(p.cooling_until)}`} />
                    </>
                  ) : p.configured && p.enabled !== false ? (
                    <span class="badge badge-ok">Ready</span>
                  ) : (
                    <span class="muted">—</span>
                  )}
                </Cell>
              </Row>
            ))}
          </DataTable>
          <p class="muted table-note">
            Failed: attempts that did not answer (the request may still have succeeded through another provider). Fallback rate: the
            requests that tried this provider, failed there and were answered by another. Latency: every attempt, failed ones included.
            Cooldowns are this gateway process's, as of <span safe>{formatClock(props.now)}</span>.
          </p>
        </>
      )}
    </Layout>
  );
}
