/**
 * A stored request or response body as a conversation to read: who said what, which tools were
 * called with which arguments, what they returned. Pure functions over the stored text; whatever
 * they cannot read (a body cut at the log limit, a shape nobody listed) yields null and the page
 * shows the raw text instead. Shapes read: OpenAI chat completions, Anthropic messages, the
 * Responses API, embeddings, and a streamed answer (stored as its plain text).
 */

export type Part =
  | { kind: "text"; text: string }
  | { kind: "reasoning"; text: string }
  | { kind: "tool_call"; name: string; id: string | null; args: string }
  | { kind: "tool_result"; id: string | null; text: string }
  /** Images, audio, files: a label in place of the data. */
  | { kind: "placeholder"; text: string };

export interface Turn {
  role: string;
  parts: Part[];
}

export interface Conversation {
  turns: Turn[];
  /** Tools the request offered, by name. */
  tools: string[];
}

type Rec = Record<string, unknown>;
const isRec = (x: unknown): x is Rec => typeof x === "object" && x !== null && !Array.isArray(x);
const str = (x: unknown): string | null => (typeof x === "string" ? x : null);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** JSON arguments laid out to read; anything else as sent. */
export function prettyJson(text: string): string {
  const v = parseJson(text);
  return v === undefined ? text : JSON.stringify(v, null, 2);
}

const argsText = (x: unknown): string => (typeof x === "string" ? prettyJson(x) : JSON.stringify(x ?? {}, null, 2));

function sizeOf(url: string): string {
  if (!url.startsWith("data:")) return url.length > 80 ? `${url.slice(0, 77)}…` : url;
  const kb = Math.max(1, Math.round((url.length * 3) / 4 / 1024));
  const mime = /^data:([^;,]+)/.exec(url)?.[1] ?? "data";
  return `${mime}, ${kb} KB`;
}

/** One content part of any of the shapes, or null for a kind with nothing to show. */
function part(p: unknown): Part | null {
  if (typeof p === "string") return { kind: "text", text: p };
  if (!isRec(p)) return null;
  const type = str(p.type) ?? "";
  if (type === "text" || type === "input_text" || type === "output_text") return { kind: "text", text: str(p.text) ?? "" };
  if (type === "refusal") return { kind: "text", text: `(refused) ${str(p.refusal) ?? ""}` };
  if (type === "thinking" || type === "reasoning") return { kind: "reasoning", text: str(p.thinking) ?? str(p.text) ?? "" };
  if (type === "redacted_thinking") return { kind: "reasoning", text: "(redacted by the provider)" };
  if (type === "image_url" || type === "input_image") {
    const url = isRec(p.image_url) ? str(p.image_url.url) : str(p.image_url);
    return { kind: "placeholder", text: `image (${url ? sizeOf(url) : "no URL"})` };
  }
  if (type === "image") {
    const src = isRec(p.source) ? p.source : {};
    return { kind: "placeholder", text: `image (${str(src.media_type) ?? str(src.url) ?? str(src.type) ?? "attached"})` };
  }
  if (type === "input_audio") return { kind: "placeholder", text: "audio" };
  if (type === "file" || type === "input_file" || type === "document") return { kind: "placeholder", text: "file" };
  if (type === "tool_use") return { kind: "tool_call", name: str(p.name) ?? "?", id: str(p.id), args: argsText(p.input) };
  if (type === "tool_result") return { kind: "tool_result", id: str(p.tool_use_id), text: contentText(p.content) };
  return { kind: "placeholder", text: type || "content" };
}

function parts(content: unknown): Part[] {
  if (typeof content === "string") return content ? [{ kind: "text", text: content }] : [];
  if (Array.isArray(content)) return content.map(part).filter((p): p is Part => p !== null);
  return [];
}

/** A tool result's content as text (a string, or text blocks). */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  return parts(content)
    .map((p) => ("text" in p ? p.text : ""))
    .join("\n");
}

/** An OpenAI chat message or an Anthropic message. */
function messageTurn(m: Rec): Turn {
  const role = str(m.role) ?? "?";
  if (role === "tool") return { role, parts: [{ kind: "tool_result", id: str(m.tool_call_id), text: contentText(m.content) }] };
  const out: Part[] = [];
  const reasoning = str(m.reasoning_content) ?? str(m.reasoning);
  if (reasoning) out.push({ kind: "reasoning", text: reasoning });
  out.push(...parts(m.content));
  if (Array.isArray(m.tool_calls)) {
    for (const c of m.tool_calls) {
      if (!isRec(c)) continue;
      const fn = isRec(c.function) ? c.function : {};
      out.push({ kind: "tool_call", name: str(fn.name) ?? "?", id: str(c.id), args: argsText(fn.arguments) });
    }
  }
  // Anthropic puts tool results in a user message; they read better as the tool's turn.
  if (out.length > 0 && out.every((p) => p.kind === "tool_result")) return { role: "tool", parts: out };
  return { role, parts: out };
}

/** A Responses API input or output item. */
function responsesItem(item: unknown): Turn | null {
  if (typeof item === "string") return { role: "user", parts: [{ kind: "text", text: item }] };
  if (!isRec(item)) return null;
  const type = str(item.type) ?? "message";
  if (type === "message") return { role: str(item.role) ?? "assistant", parts: parts(item.content) };
  if (type === "function_call")
    return {
      role: "assistant",
      parts: [{ kind: "tool_call", name: str(item.name) ?? "?", id: str(item.call_id), args: argsText(item.arguments) }],
    };
  if (type === "function_call_output")
    return { role: "tool", parts: [{ kind: "tool_result", id: str(item.call_id), text: contentText(item.output) }] };
  if (type === "reasoning") {
    const summary = Array.isArray(item.summary) ? item.summary.map((s) => (isRec(s) ? (str(s.text) ?? "") : "")).join("\n") : "";
    return { role: "assistant", parts: [{ kind: "reasoning", text: summary || "(reasoning not shown by the provider)" }] };
  }
  return { role: "assistant", parts: [{ kind: "placeholder", text: type }] };
}

function toolNames(tools: unknown): string[] {
  if (!Array.isArray(tools)) return [];
  return tools
    .map((t) => (isRec(t) ? (str(t.name) ?? (isRec(t.function) ? str(t.function.name) : null) ?? str(t.type)) : null))
    .filter((n): n is string => !!n);
}

/** Merges consecutive Responses items of the same role (a message then its tool calls) into one turn. */
function merged(turns: Turn[]): Turn[] {
  const out: Turn[] = [];
  for (const t of turns) {
    const last = out[out.length - 1];
    if (last && last.role === t.role && t.role === "assistant") last.parts.push(...t.parts);
    else out.push({ role: t.role, parts: [...t.parts] });
  }
  return out;
}

/** The request as turns, or null when it cannot be read (cut, or not JSON). */
export function requestConversation(text: string | null, endpoint: string | undefined): Conversation | null {
  if (text === null) return null;
  const body = parseJson(text);
  if (!isRec(body)) return null;
  if (endpoint === "embeddings") {
    const input = body.input;
    const items = Array.isArray(input) ? input : [input];
    return {
      tools: [],
      turns: items.map((x, i) => ({
        role: `input ${i + 1}`,
        parts: [
          typeof x === "string"
            ? { kind: "text", text: x }
            : { kind: "placeholder", text: Array.isArray(x) ? `${x.length} tokens` : "input" },
        ],
      })),
    };
  }
  const turns: Turn[] = [];
  const system = body.system ?? body.instructions;
  if (system !== undefined && system !== null) turns.push({ role: "system", parts: parts(system) });
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) if (isRec(m)) turns.push(messageTurn(m));
  } else if (body.input !== undefined) {
    const items = Array.isArray(body.input) ? body.input : [body.input];
    turns.push(...merged(items.map(responsesItem).filter((t): t is Turn => t !== null)));
  } else {
    return null;
  }
  return { turns, tools: toolNames(body.tools) };
}

/**
 * The answer as turns. A streamed answer is stored as the text the client received (tool calls as
 * name and arguments run together), so it is shown as one assistant turn of text.
 */
export function responseConversation(text: string | null, endpoint: string | undefined, stream: boolean): Conversation | null {
  if (text === null) return null;
  const body = parseJson(text);
  if (!isRec(body)) {
    return stream && body === undefined && !/…\[truncated: \d+ characters in all\]$/.test(text)
      ? { tools: [], turns: [{ role: "assistant", parts: [{ kind: "text", text }] }] }
      : null;
  }
  if (endpoint === "embeddings" && Array.isArray(body.data)) {
    const dims = body.data.map((d) => (isRec(d) && typeof d.length === "number" ? d.length : null)).filter((n): n is number => n !== null);
    const label = `${body.data.length} vector${body.data.length === 1 ? "" : "s"}${dims.length ? ` of ${dims[0]} dimensions` : ""}`;
    return { tools: [], turns: [{ role: "embeddings", parts: [{ kind: "placeholder", text: label }] }] };
  }
  if (Array.isArray(body.choices)) {
    const turns = body.choices.filter(isRec).map((c) => messageTurn(isRec(c.message) ? c.message : {}));
    return { tools: [], turns: turns.map((t) => ({ ...t, role: t.role === "?" ? "assistant" : t.role })) };
  }
  if (Array.isArray(body.output)) return { tools: [], turns: merged(body.output.map(responsesItem).filter((t): t is Turn => t !== null)) };
  if (Array.isArray(body.content))
    return { tools: [], turns: [messageTurn({ role: str(body.role) ?? "assistant", content: body.content })] };
  return null;
}
