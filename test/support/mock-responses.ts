/**
 * OpenAI's Responses API (`POST /v1/responses`) for the openai mock upstream: the request check,
 * the Response object and its streaming events, built from the same scripted reply as chat.
 */

interface ReplyLike {
  id: number;
  model: string;
  text: string | null;
  toolCalls: { id: string; name: string; arguments: Record<string, unknown> }[];
  finish: "stop" | "length" | "tool";
  usage: { prompt: number; completion: number; cacheRead?: number; reasoning?: number };
}

const CREATED = 1_700_000_000;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function validateResponsesRequest(b: unknown): string | null {
  if (!isRecord(b)) return "request body must be a JSON object";
  if (typeof b.model !== "string") return "Missing required parameter: 'model'.";
  if (typeof b.input !== "string" && !Array.isArray(b.input)) return "Missing required parameter: 'input'.";
  if (b.messages !== undefined) return "Unknown parameter: 'messages'.";
  return null;
}

/** The text of the last user message in `input`. */
export function responsesUserText(b: Record<string, unknown>): string {
  if (typeof b.input === "string") return b.input;
  if (!Array.isArray(b.input)) return "";
  for (let i = b.input.length - 1; i >= 0; i--) {
    const m: unknown = b.input[i];
    if (!isRecord(m) || m.role !== "user") continue;
    if (typeof m.content === "string") return m.content;
    if (Array.isArray(m.content)) return m.content.map((p) => (isRecord(p) && typeof p.text === "string" ? p.text : "")).join(" ");
  }
  return "";
}

function usage(r: ReplyLike) {
  return {
    input_tokens: r.usage.prompt,
    input_tokens_details: { cached_tokens: r.usage.cacheRead ?? 0 },
    output_tokens: r.usage.completion,
    output_tokens_details: { reasoning_tokens: r.usage.reasoning ?? 0 },
    total_tokens: r.usage.prompt + r.usage.completion,
  };
}

function items(r: ReplyLike, status: "completed" | "incomplete") {
  const out: Record<string, unknown>[] = [];
  if (r.text !== null) {
    out.push({
      type: "message",
      id: `msg_mock${r.id}`,
      status,
      role: "assistant",
      content: [{ type: "output_text", text: r.text, annotations: [], logprobs: [] }],
    });
  }
  r.toolCalls.forEach((t, i) =>
    out.push({
      type: "function_call",
      id: `fc_mock${r.id}_${i}`,
      call_id: t.id,
      name: t.name,
      arguments: JSON.stringify(t.arguments),
      status: "completed",
    }),
  );
  return out;
}

/** Fields OpenAI echoes from the request into every Response object. */
function echoed(req: Record<string, unknown>) {
  return {
    instructions: req.instructions ?? null,
    metadata: req.metadata ?? {},
    max_output_tokens: req.max_output_tokens ?? null,
    store: req.store ?? true,
  };
}

function response(
  r: ReplyLike,
  req: Record<string, unknown>,
  status: "in_progress" | "completed" | "incomplete",
  output: Record<string, unknown>[],
) {
  return {
    ...echoed(req),
    id: `resp_mock${r.id}`,
    object: "response",
    created_at: CREATED,
    status,
    error: null,
    incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
    model: r.model,
    output,
    parallel_tool_calls: true,
    tool_choice: "auto",
    tools: [],
    usage: status === "in_progress" ? null : usage(r),
  };
}

export function responsesBody(r: ReplyLike, req: Record<string, unknown>) {
  const status = r.finish === "length" ? "incomplete" : "completed";
  return response(r, req, status, items(r, status));
}

export function responsesEvents(r: ReplyLike, req: Record<string, unknown>): { events: string[]; end: string[] } {
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`;
  const status = r.finish === "length" ? "incomplete" : "completed";
  const done = items(r, status);
  const events = [
    ev("response.created", { response: response(r, req, "in_progress", []) }),
    ev("response.in_progress", { response: response(r, req, "in_progress", []) }),
  ];
  done.forEach((item, index) => {
    if (item.type === "message") {
      const id = item.id;
      events.push(ev("response.output_item.added", { output_index: index, item: { ...item, status: "in_progress", content: [] } }));
      events.push(
        ev("response.content_part.added", {
          item_id: id,
          output_index: index,
          content_index: 0,
          part: { type: "output_text", text: "", annotations: [] },
        }),
      );
      for (const p of (r.text ?? "").match(/\s*\S+|\s+$/g) ?? []) {
        events.push(ev("response.output_text.delta", { item_id: id, output_index: index, content_index: 0, delta: p, logprobs: [] }));
      }
      events.push(ev("response.output_text.done", { item_id: id, output_index: index, content_index: 0, text: r.text, logprobs: [] }));
      events.push(
        ev("response.content_part.done", { item_id: id, output_index: index, content_index: 0, part: (item.content as unknown[])[0] }),
      );
    } else {
      events.push(ev("response.output_item.added", { output_index: index, item: { ...item, arguments: "", status: "in_progress" } }));
      events.push(ev("response.function_call_arguments.delta", { item_id: item.id, output_index: index, delta: item.arguments }));
      events.push(ev("response.function_call_arguments.done", { item_id: item.id, output_index: index, arguments: item.arguments }));
    }
    events.push(ev("response.output_item.done", { output_index: index, item }));
  });
  const end = [ev(status === "completed" ? "response.completed" : "response.incomplete", { response: response(r, req, status, done) })];
  return { events, end };
}

export function responsesStreamError(type: string | undefined, message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: "error", code: type ?? "server_error", message, param: null, sequence_number: 99 })}\n\n`;
}
