/**
 * Server-rendered SVG bar charts of figures per day: no chart library, no script. Accessible as an image with a
 * title and a summary (role="img", aria-label), labelled axes, and each bar's value in a <title>
 * (the browser shows it on hover; screen readers read it when exploring the graphic).
 * Colours and fonts come from app.css classes (the CSP forbids inline styles).
 */

interface ChartPoint {
  /** X-axis label (a day: 2026-11-26). */
  label: string;
  value: number;
  /** The value as people read it ("$0.0123", "1,204"). */
  display: string;
}

interface BarChartProps {
  id: string;
  title: string;
  /** One sentence for screen readers: what the chart shows overall. */
  summary: string;
  points: ChartPoint[];
  yLabel: string;
  /** Counts: ticks are whole numbers. */
  integer?: boolean;
  /** Formats y-axis tick values. */
  format: (n: number) => string;
  tone?: "primary" | "accent";
  /** viewBox size: about the width it is shown at, so the 11px labels stay near 11px. */
  width?: number;
  height?: number;
}

const PAD = { top: 12, right: 22, bottom: 44 };

/** 0 and two round ticks above the data's maximum. */
function ticks(max: number, integer: boolean): number[] {
  if (max <= 0) return integer ? [0, 1] : [0, 0.01];
  const raw = max / 2;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  if (integer) step = Math.max(1, Math.ceil(step));
  return step >= max ? [0, step] : [0, step, step * 2];
}

/**
 * A chart in a panel of its own, under a heading. Two drawings of the same data: one at about the
 * desktop width and a narrow one for phones (CSS shows one of them), so the labels stay legible at
 * both sizes without scripts or scaling hacks. The hidden one is display:none, which also keeps it
 * out of the accessibility tree.
 */
export function ChartPanel(props: BarChartProps & { heading: string }) {
  return (
    <section class="panel">
      <h2 safe>{props.heading}</h2>
      <figure class="chart" id={props.id}>
        <ChartSvg {...props} variant="wide" W={props.width ?? 640} H={props.height ?? 220} />
        <ChartSvg {...props} variant="narrow" W={340} H={200} />
      </figure>
    </section>
  );
}

function ChartSvg(props: BarChartProps & { variant: "wide" | "narrow"; W: number; H: number }) {
  const { W, H } = props;
  const n = props.points.length;
  const max = Math.max(0, ...props.points.map((p) => p.value));
  const yTicks = ticks(max, props.integer ?? false);
  // Room for the longest tick label (≈6.5px a character at 11px) and the rotated axis title.
  const left = Math.round(34 + 6.5 * Math.max(...yTicks.map((t) => props.format(t).length)));
  const plotW = W - left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const axis = PAD.top + plotH;
  const top = yTicks[yTicks.length - 1];
  const y = (v: number) => axis - (top > 0 ? (v / top) * plotH : 0);
  const slot = n > 0 ? plotW / n : plotW;
  const barW = Math.max(1, Math.min(28, slot * 0.7));
  // About one x label per 80px, whatever the number of days.
  const every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(plotW / 80))));
  return (
    <svg
      class={`chart-svg chart-${props.variant} chart-${props.tone ?? "primary"}`}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`${props.title}. ${props.summary}`}
      preserveAspectRatio="xMidYMid meet"
    >
      <title safe>{`${props.title}. ${props.summary}`}</title>
      {yTicks.map((t) => (
        <g class="chart-grid">
          <line x1={left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
          <text x={left - 8} y={y(t) + 4} text-anchor="end" class="chart-tick" safe>
            {props.format(t)}
          </text>
        </g>
      ))}
      {props.points.map((p, i) => {
        const x = left + i * slot + (slot - barW) / 2;
        const h = Math.max(p.value > 0 ? 1.5 : 0, axis - y(p.value));
        const last = i === n - 1;
        return (
          <g class="chart-bar">
            <rect x={x.toFixed(1)} y={(axis - h).toFixed(1)} width={barW.toFixed(1)} height={h.toFixed(1)} rx="2">
              <title safe>{`${p.label}: ${p.display}`}</title>
            </rect>
            {/* A full-height invisible target, so small bars still show their value on hover. */}
            <rect class="chart-hit" x={(left + i * slot).toFixed(1)} y={PAD.top} width={slot.toFixed(1)} height={plotH}>
              <title safe>{`${p.label}: ${p.display}`}</title>
            </rect>
            {/* Counted from the last day, so today always has its label and none collide. */}
            {(n - 1 - i) % every === 0 && (
              <text
                x={(last ? left + plotW : left + i * slot + slot / 2).toFixed(1)}
                y={H - PAD.bottom + 16}
                text-anchor={last ? "end" : "middle"}
                class="chart-tick"
                safe
              >
                {p.label.slice(5)}
              </text>
            )}
          </g>
        );
      })}
      <line class="chart-axis" x1={left} x2={W - PAD.right} y1={axis} y2={axis} />
      <text class="chart-label" x={left + plotW / 2} y={H - 6} text-anchor="middle">
        Day (UTC)
      </text>
      <text
        class="chart-label"
        x="14"
        y={PAD.top + plotH / 2}
        text-anchor="middle"
        transform={`rotate(-90 14 ${PAD.top + plotH / 2})`}
        safe
      >
        {props.yLabel}
      </text>
    </svg>
  );
}
