/**
 * `x-perpetuo-cost`: what a non-streamed answer cost in USD, as a plain decimal ("0.000123").
 * Streams send their headers before usage is known; their cost is in the request log.
 */
const COST_HEADER = "x-perpetuo-cost";

/** A cost (USD, already rounded to 10 places by costFor) as a decimal string; null when the price is unknown. */
export function formatCost(cost: number | null): string | null {
  if (cost === null || !Number.isFinite(cost) || cost < 0) return null;
  // toFixed, not String(): 1.5e-7 must read 0.00000015.
  const s = cost.toFixed(10).replace(/0+$/, "").replace(/\.$/, "");
  return s === "" ? "0" : s;
}

/** Adds the header to a success's headers when the cost is known. */
export function withCost(headers: Record<string, string>, cost: number | null): Record<string, string> {
  const v = formatCost(cost);
  if (v !== null) headers[COST_HEADER] = v;
  return headers;
}
