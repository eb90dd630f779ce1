/**
 * Server-sent events, per the WHATWG "event stream interpretation" rules, fed with decoded text
 * in arbitrary slices (the caller runs a streaming TextDecoder over the upstream body).
 *
 * One deliberate deviation: at EOF, `flush()` treats an unterminated last line as complete and
 * dispatches a pending event instead of discarding it. Some servers omit the final blank line;
 * a genuinely truncated event still fails JSON parsing or lacks its end marker, which the
 * stream transformers report as an error.
 */

export type SSEEvent = { event?: string; data: string; id?: string };

interface SSEParser {
  feed(chunk: string): SSEEvent[];
  flush(): SSEEvent[];
}

const LF = 10;
const COLON = 58;
const SPACE = 32;

/** Thrown by feed() when one event (or one unterminated line) grows past `maxEventChars`. */
export class SSEEventTooLarge extends Error {
  constructor(max: number) {
    super(`a server-sent event exceeds ${max} characters`);
    this.name = "SSEEventTooLarge";
  }
}

export function createSSEParser(opts: { maxEventChars?: number } = {}): SSEParser {
  const max = opts.maxEventChars ?? Infinity;
  let pending = ""; // unterminated line carried over from the previous chunk
  let skipLF = false; // previous chunk ended with CR: a leading LF belongs to that CRLF
  let started = false;
  let data: string | null = null;
  let eventType: string | undefined;
  let lastId = "";

  function dispatch(out: SSEEvent[]): void {
    if (data !== null) {
      const ev: SSEEvent = { data };
      if (eventType !== undefined) ev.event = eventType;
      if (lastId !== "") ev.id = lastId;
      out.push(ev);
    }
    data = null;
    eventType = undefined;
  }

  function line(text: string, out: SSEEvent[]): void {
    if (text.length === 0) return dispatch(out);
    if (text.charCodeAt(0) === COLON) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    const value = colon === -1 ? "" : text.slice(text.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    switch (field) {
      case "data":
        data = data === null ? value : `${data}\n${value}`;
        break;
      case "event":
        eventType = value;
        break;
      case "id":
        if (value.indexOf("\0") === -1) lastId = value;
        break;
      // "retry" and unknown fields are ignored: we never reconnect.
    }
  }

  function feed(chunk: string): SSEEvent[] {
    const out: SSEEvent[] = [];
    const n = chunk.length;
    if (n === 0) return out;
    let i = 0;
    if (!started) {
      started = true;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    if (skipLF) {
      skipLF = false;
      if (chunk.charCodeAt(i) === LF) i++;
    }
    let lf = chunk.indexOf("\n", i);
    let cr = chunk.indexOf("\r", i);
    while (lf !== -1 || cr !== -1) {
      let end: number;
      let next: number;
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        end = lf;
        next = lf + 1;
      } else {
        end = cr;
        if (cr + 1 < n) next = chunk.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
        else {
          next = n;
          skipLF = true;
        }
      }
      line(pending + chunk.slice(i, end), out);
      pending = "";
      i = next;
      if (lf !== -1 && lf < i) lf = chunk.indexOf("\n", i);
      if (cr !== -1 && cr < i) cr = chunk.indexOf("\r", i);
    }
    pending += chunk.slice(i);
    // The event being assembled and the line not yet ended are all we hold: bound them.
    if (pending.length + (data?.length ?? 0) > max) throw new SSEEventTooLarge(max);
    return out;
  }

  function flush(): SSEEvent[] {
    const out: SSEEvent[] = [];
    if (pending) {
      line(pending, out);
      pending = "";
    }
    dispatch(out);
    return out;
  }

  return { feed, flush };
}

export function encodeSSE(obj: unknown): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}

export const SSE_DONE = "data: [DONE]\n\n";

const encoder = new TextEncoder();

/**
 * An SSE body with each event's data turned into other text (`push`), and `end` appended when it
 * closes. Read on demand, not piped: a pipe reads ahead of the client, so a slow client would no
 * longer slow the provider's stream down; and cancelling this stream (the client left) cancels the
 * source at once, which aborts the provider's.
 */
export function translateSSE(
  source: ReadableStream<Uint8Array>,
  push: (data: string) => string,
  end: () => string,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const parser = createSSEParser();
  const decoder = new TextDecoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { value, done } = await reader.read();
        let out = "";
        if (done) {
          for (const ev of parser.flush()) out += push(ev.data);
          out += end();
          if (out) controller.enqueue(encoder.encode(out));
          controller.close();
          return;
        }
        for (const ev of parser.feed(decoder.decode(value, { stream: true }))) out += push(ev.data);
        if (out) {
          controller.enqueue(encoder.encode(out));
          return;
        }
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}
