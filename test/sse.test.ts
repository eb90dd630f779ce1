import { describe, expect, test } from "bun:test";
import { createSSEParser, encodeSSE, SSE_DONE, SSEEventTooLarge, type SSEEvent } from "../src/adapters/sse.ts";

function parseAll(text: string): SSEEvent[] {
  const p = createSSEParser();
  return [...p.feed(text), ...p.flush()];
}

function parseInPieces(pieces: string[]): SSEEvent[] {
  const p = createSSEParser();
  const out: SSEEvent[] = [];
  for (const piece of pieces) out.push(...p.feed(piece));
  out.push(...p.flush());
  return out;
}

describe("SSE parser", () => {
  const cases: [string, string, SSEEvent[]][] = [
    ["a single data line", "data: hello\n\n", [{ data: "hello" }]],
    ["the event field", "event: ping\ndata: {}\n\n", [{ event: "ping", data: "{}" }]],
    ["multi-line data joined with LF", "data: a\ndata: b\ndata:\n\n", [{ data: "a\nb\n" }]],
    ["CRLF line endings", "event: x\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n", [{ event: "x", data: "1" }, { data: "2" }]],
    ["CR line endings", "event: x\rdata: 1\r\rdata: 2\r\r", [{ event: "x", data: "1" }, { data: "2" }]],
    ["mixed line endings", "data: 1\r\n\ndata: 2\r\rdata: 3\n\r", [{ data: "1" }, { data: "2" }, { data: "3" }]],
    ["comments are ignored", ": keep-alive\n\n:another\ndata: x\n\n", [{ data: "x" }]],
    ["a field without colon has an empty value", "data\n\n", [{ data: "" }]],
    ["only one leading space is stripped", "data:  two spaces\n\n", [{ data: " two spaces" }]],
    ["no space after the colon", "data:x\n\n", [{ data: "x" }]],
    ["colons after the first belong to the value", 'data: {"a":"b:c"}\n\n', [{ data: '{"a":"b:c"}' }]],
    ["an event without data is not dispatched", "event: ping\n\ndata: y\n\n", [{ data: "y" }]],
    ["blank lines alone dispatch nothing", "\n\n\n", []],
    ["event type resets after dispatch", "event: a\ndata: 1\n\ndata: 2\n\n", [{ event: "a", data: "1" }, { data: "2" }]],
    ["unknown fields and retry are ignored", "retry: 10\nfoo: bar\ndata: z\n\n", [{ data: "z" }]],
    [
      "the id persists to later events",
      "id: 7\ndata: a\n\ndata: b\n\n",
      [
        { id: "7", data: "a" },
        { id: "7", data: "b" },
      ],
    ],
    ["an id containing NUL is ignored", "id: a\0b\ndata: a\n\n", [{ data: "a" }]],
    ["a leading BOM is stripped", "\uFEFFdata: bom\n\n", [{ data: "bom" }]],
    ["an unterminated last event is dispatched at flush", "data: [DONE]", [{ data: "[DONE]" }]],
    ["a terminated but undispatched event is dispatched at flush", "data: tail\n", [{ data: "tail" }]],
    ["unicode passes through", "data: héllo ✓ 🎉\n\n", [{ data: "héllo ✓ 🎉" }]],
  ];
  for (const [name, input, expected] of cases) {
    test(`parses ${name}`, () => {
      expect(parseAll(input)).toEqual(expected);
    });
  }

  const realistic =
    "\uFEFF: opening comment\r\n" +
    'event: message_start\r\ndata: {"type":"message_start","x":"a:b"}\r\n\r\n' +
    "event: ping\ndata: {}\n\n" +
    "data: line1\rdata: line2\r\r" +
    'id: 42\ndata: {"emoji":"🎉"}\n\n' +
    "data\n\n" +
    "data: [DONE]\n\n";
  const expectedRealistic: SSEEvent[] = [
    { event: "message_start", data: '{"type":"message_start","x":"a:b"}' },
    { event: "ping", data: "{}" },
    { data: "line1\nline2" },
    { id: "42", data: '{"emoji":"🎉"}' },
    { id: "42", data: "" },
    { id: "42", data: "[DONE]" },
  ];

  test("gives the same events whole as the expected list", () => {
    expect(parseAll(realistic)).toEqual(expectedRealistic);
  });

  test("gives the same events when split at every boundary", () => {
    for (let i = 0; i <= realistic.length; i++) {
      expect({ i, events: parseInPieces([realistic.slice(0, i), realistic.slice(i)]) }).toEqual({ i, events: expectedRealistic });
    }
  });

  test("gives the same events when split at every pair of boundaries", () => {
    const s = "data: a\r\n\r\nevent: e\rdata: b\r\rdata: c\n\n";
    const expected = parseAll(s);
    expect(expected).toEqual([{ data: "a" }, { event: "e", data: "b" }, { data: "c" }]);
    for (let i = 0; i <= s.length; i++)
      for (let j = i; j <= s.length; j++) expect(parseInPieces([s.slice(0, i), s.slice(i, j), s.slice(j)])).toEqual(expected);
  });

  test("gives the same events fed one character at a time", () => {
    expect(parseInPieces([...realistic])).toEqual(expectedRealistic);
  });

  test("gives the same events from UTF-8 bytes split inside multi-byte characters", () => {
    const bytes = new TextEncoder().encode(realistic);
    for (let i = 0; i <= bytes.length; i++) {
      const dec = new TextDecoder();
      const pieces = [dec.decode(bytes.slice(0, i), { stream: true }), dec.decode(bytes.slice(i), { stream: true }), dec.decode()];
      expect(parseInPieces(pieces)).toEqual(expectedRealistic);
    }
  });

  test("a CR at the end of a chunk followed by LF is one line break", () => {
    const p = createSSEParser();
    expect(p.feed("data: a\r")).toEqual([]);
    expect(p.feed("\n\r")).toEqual([{ data: "a" }]);
    expect(p.feed("\ndata: b\n\n")).toEqual([{ data: "b" }]);
  });

  test("events are returned as soon as their blank line arrives", () => {
    const p = createSSEParser();
    expect(p.feed("data: 1\n")).toEqual([]);
    expect(p.feed("\ndata: 2")).toEqual([{ data: "1" }]);
    expect(p.feed("\n\n")).toEqual([{ data: "2" }]);
    expect(p.flush()).toEqual([]);
  });

  test("empty chunks change nothing", () => {
    const p = createSSEParser();
    expect(p.feed("")).toEqual([]);
    expect(p.feed("data: x\r")).toEqual([]);
    expect(p.feed("")).toEqual([]);
    expect(p.feed("\n\n")).toEqual([{ data: "x" }]);
  });
});

describe("SSE event size limit", () => {
  test("an event growing past the limit across chunks throws, whether in data lines or one endless line", () => {
    const lines = createSSEParser({ maxEventChars: 100 });
    expect(lines.feed("data: " + "a".repeat(40) + "\n")).toEqual([]);
    expect(() => lines.feed("data: " + "b".repeat(70) + "\n")).toThrow(SSEEventTooLarge);
    const endless = createSSEParser({ maxEventChars: 100 });
    expect(endless.feed("data: " + "c".repeat(60))).toEqual([]);
    expect(() => endless.feed("c".repeat(60))).toThrow(SSEEventTooLarge);
  });

  test("events under the limit pass, however many", () => {
    const p = createSSEParser({ maxEventChars: 100 });
    for (let i = 0; i < 50; i++) expect(p.feed(`data: ${"d".repeat(90)}\n\n`)).toEqual([{ data: "d".repeat(90) }]);
  });
});

describe("SSE encoding", () => {
  test("encodes an object as one data event", () => {
    expect(encodeSSE({ a: 1, b: "x\ny" })).toBe('data: {"a":1,"b":"x\\ny"}\n\n');
  });

  test("round-trips through the parser", () => {
    const obj = { choices: [{ delta: { content: "line1\nline2: ok" } }] };
    expect(JSON.parse(parseAll(encodeSSE(obj))[0].data)).toEqual(obj);
  });

  test("the done marker is the OpenAI one", () => {
    expect(SSE_DONE).toBe("data: [DONE]\n\n");
  });
});
