/**
 * One attempt of an entry that speaks the client's own API (see RelayFormat): the answer goes to
 * the client as the provider sent it, JSON bytes or stream events, while the format reads usage and
 * log text on the side. The inbound route must not translate such an answer again (isRelayed).
 */
import { withCost } from "./cost-header.ts";
import { jsonAnswer } from "./attempt.ts";
import { successHeaders, type AttemptContext, type AttemptOutcome, type RelayFormat } from "./call.ts";
import { recordAnswer, relayStream } from "./stream.ts";

const relayed = new WeakSet<Response>();
export const isRelayed = (res: Response) => relayed.has(res);

export async function relayAttempt(a: AttemptContext, format: RelayFormat): Promise<AttemptOutcome> {
  const outcome = a.call.body.stream === true ? await relayStream(a, format.dialect(a)) : await relayJson(a, format);
  if (outcome.ok) relayed.add(outcome.response);
  return outcome;
}

async function relayJson(a: AttemptContext, format: RelayFormat): Promise<AttemptOutcome> {
  const answered = await jsonAnswer(a, (read) => ({ answer: format.read(read.json, a), read }));
  if (!answered.ok) return answered;
  const { answer, read } = answered.value;
  const cost = recordAnswer(a, { status: 200, ...answer, ttft: a.attempt.latency_ms });
  return { ok: true, response: jsonSuccess(a, read.bytes as Uint8Array<ArrayBuffer>, format.costHeader ? cost : null) };
}

/** A non-streamed answer as the client gets it, with what it cost when that is known. */
export function jsonSuccess(a: AttemptContext, body: string | Uint8Array<ArrayBuffer>, cost: number | null): Response {
  const headers = withCost({ "content-type": "application/json", ...successHeaders(a.call.requestId, a.cand) }, cost);
  return new Response(body, { status: 200, headers });
}
