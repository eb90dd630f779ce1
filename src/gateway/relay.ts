/**
 * One attempt of an entry that speaks the client's own API (see RelayFormat): the answer goes to
 * the client as the provider sent it, JSON bytes or stream events, while the format reads usage and
 * log text on the side. The inbound route must not translate such an answer again (isRelayed).
 */
import { jsonAnswer, type UpstreamText } from "./attempt.ts";
import { successHeaders, type AnswerRead, type AttemptContext, type AttemptOutcome, type RelayFormat } from "./call.ts";
import type { Candidate } from "./router.ts";
import { recordAnswer, relayStream } from "./stream.ts";

const relayed = new WeakSet<Response>();
export const isRelayed = (res: Response) => relayed.has(res);

export async function relayAttempt(a: AttemptContext, format: RelayFormat): Promise<AttemptOutcome> {
  const outcome =
    a.call.body.stream === true
      ? await relayStream(a, format.dialect(a))
      : await jsonReply(a, (read) => ({ ...format.read(read.json, a), body: read.bytes as Uint8Array<ArrayBuffer> }), format.costHeader);
  if (outcome.ok) relayed.add(outcome.response);
  return outcome;
}

/**
 * A non-streamed attempt of a chat call, relayed or translated: `parse` says what the log row
 * keeps and what the client gets (`body`); the answer is recorded and sent with its cost.
 */
export async function jsonReply(
  a: AttemptContext,
  parse: (read: UpstreamText) => AnswerRead & { body: string | Uint8Array<ArrayBuffer> },
  costHeader = true,
): Promise<AttemptOutcome> {
  const answered = await jsonAnswer(a, parse);
  if (!answered.ok) return answered;
  const cost = recordAnswer(a, { status: 200, ...answered.value, ttft: a.attempt.latency_ms });
  return { ok: true, response: jsonSuccess(a, answered.value.body, costHeader ? cost : null) };
}

/**
 * A non-streamed answer as the client gets it, with `x-perpetuo-cost` (USD) when its price is known.
 * Streams send their headers before usage is known; their cost is in the request log.
 */
export function jsonSuccess(
  a: { call: { requestId: string }; cand: Candidate },
  body: string | Uint8Array<ArrayBuffer>,
  cost: number | null,
): Response {
  const headers: Record<string, string> = { "content-type": "application/json", ...successHeaders(a.call.requestId, a.cand) };
  const shown = formatCost(cost);
  if (shown !== null) headers["x-perpetuo-cost"] = shown;
  return new Response(body, { status: 200, headers });
}

/** A cost (USD, already rounded to 10 places by costFor) as a plain decimal ("0.000123"); null when the price is unknown. */
export function formatCost(cost: number | null): string | null {
  if (cost === null || !Number.isFinite(cost) || cost < 0) return null;
  // toFixed, not String(): 1.5e-7 must read 0.00000015.
  const s = cost.toFixed(10).replace(/0+$/, "").replace(/\.$/, "");
  return s === "" ? "0" : s;
}
