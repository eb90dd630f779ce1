import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { waitFor } from "./support/logs.ts";
import { API_MAX_BODY, GATEWAY_MAX_BODY, MAX_JSON_DEPTH, SERVER_MAX_BODY } from "../src/http/body.ts";

/**
 * Request bodies: size limits by Content-Length and while reading, authentication before reading
 * on /v1, JSON nesting, and NUL characters anywhere in the input.
 */

let h: GatewayHarness;
beforeAll(async () => {
  h = await gatewayHarness();
});
afterAll(async () => {
  await h.close();
});

/** Sends only the request head (and `body`, if any) over a raw socket; resolves with what came back first. */
function rawRequest(base: string, head: string, body = ""): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head + body));
    let got = "";
    socket.on("data", (d) => {
      got += d.toString();
      // The head and a small JSON error are enough; the server may keep the socket open.
      if (/\r\n\r\n[\s\S]*\}/.test(got) || /content-length: 0/i.test(got)) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.on("close", () => resolve(got));
    socket.on("error", reject);
    setTimeout(() => {
      socket.destroy();
      resolve(got);
    }, 10_000);
  });
}

/**
 * A chunked upload of up to `total` bytes; `sent()` says how many the server let through (read,
 * or buffered on the way) when the answer came.
 */
function chunkedUpload(total: number, first = "") {
  let sent = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const head = new TextEncoder().encode(first);
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      if (head.byteLength) c.enqueue(head);
    },
    pull(c) {
      if (sent >= total) return c.close();
      sent += chunk.byteLength;
      c.enqueue(chunk);
    },
  });
  return { body, sent: () => sent };
}

async function logRow(requestId: string) {
  let row: Record<string, unknown> | undefined;
  await waitFor(`the log row of ${requestId}`, async () => {
    await h.t.deps.logQueue.flush();
    [row] = await h.t.sql`select status, error_class, error_message, api_key_id from request_logs where request_id = ${requestId}`;
    return row !== undefined;
  });
  return row!;
}

const errorOf = async (r: Response) =>
  ((await r.json()) as { error: { message: string; type: string; code: string; param: string | null } }).error;

describe("size limits", () => {
  test("a /v1 Content-Length over 20 MiB is refused with 413 in OpenAI's shape before a byte of the body is sent", async () => {
    const answer = await rawRequest(
      h.base,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${h.key}\r\ncontent-type: application/json\r\ncontent-length: ${GATEWAY_MAX_BODY + 1}\r\n\r\n`,
    );
    expect(answer).toStartWith("HTTP/1.1 413");
    const json = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    expect(json).toEqual({
      error: { message: "the request body exceeds 20 MiB", type: "invalid_request_error", param: null, code: "request_too_large" },
    });
    expect(answer.toLowerCase()).toContain("connection: close");
  });

  test("Bun itself refuses a Content-Length above 21 MiB on any route, even one that reads no body", async () => {
    const answer = await rawRequest(h.base, `POST /healthz HTTP/1.1\r\nhost: localhost\r\ncontent-length: ${SERVER_MAX_BODY + 1}\r\n\r\n`);
    expect(answer).toStartWith("HTTP/1.1 413");
  });

  test("an anonymous /v1 request is refused (401) before its body is read", async () => {
    // 10 MB announced, none sent: the answer can only come before reading.
    const answer = await rawRequest(
      h.base,
      `POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\n\r\n`,
    );
    expect(answer).toStartWith("HTTP/1.1 401");
    expect(answer).toContain("invalid_api_key");
  });

  test("a chunked /v1 body is cut off at 20 MiB: 413 in OpenAI's shape, and the rest is never read", async () => {
    const up = chunkedUpload(200 * 1024 * 1024, '{"model":"m","messages":[{"role":"user","content":"');
    const r = await fetch(`${h.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json" },
      body: up.body,
      duplex: "half",
    } as RequestInit);
    expect(r.status).toBe(413);
    expect(await errorOf(r)).toMatchObject({ code: "request_too_large", type: "invalid_request_error" });
    expect(up.sent()).toBeLessThan(GATEWAY_MAX_BODY + 16 * 1024 * 1024);
  });

  test("an anonymous chunked login body is cut off at 64 KiB with a 413", async () => {
    const up = chunkedUpload(100 * 1024 * 1024, '{"email":"a@example.com","password":"');
    const r = await fetch(`${h.base}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: up.body,
      duplex: "half",
    } as RequestInit);
    expect(r.status).toBe(413);
    expect(await errorOf(r)).toMatchObject({ code: "request_too_large", message: "the request body exceeds 64 KiB" });
    expect(up.sent()).toBeLessThan(16 * 1024 * 1024);
  });

  test("a JSON API body over 64 KiB by Content-Length is a 413 before reading; one just under is read", async () => {
    const answer = await rawRequest(
      h.base,
      `POST /auth/signup HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${API_MAX_BODY + 1}\r\n\r\n`,
    );
    expect(answer).toStartWith("HTTP/1.1 413");
    const r = await h.t.call("POST", "/auth/signup", {
      body: { email: "under@example.com", password: "correct horse battery", name: "x".repeat(API_MAX_BODY - 200) },
    });
    expect(r.status).toBe(422); // read and validated (the name is too long), not refused for size
  });

  test("a dashboard form over the limit gets an error page with 413", async () => {
    const r = await fetch(`${h.base}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `email=a%40example.com&password=${"x".repeat(API_MAX_BODY)}`,
    });
    expect(r.status).toBe(413);
    expect(r.headers.get("content-type")).toContain("text/html");
    expect(await r.text()).toContain("exceeds 64 KiB");
  });
});

describe("content types", () => {
  test("an empty JSON body names the missing field; an unknown content type is a 415", async () => {
    const empty = await h.t.call("POST", "/auth/login", { body: "", headers: { "content-type": "application/json" } });
    expect(empty.status).toBe(422);
    expect(empty.body.error.param).toBe("email");
    const xml = await h.t.call("POST", "/auth/login", { body: "<login/>", headers: { "content-type": "application/xml" } });
    expect(xml.status).toBe(415);
    expect(xml.body.error.code).toBe("unsupported_media_type");
  });
});

describe("JSON nesting", () => {
  test("a /v1 body nested 100,000 levels deep is a 400 saying so, and is logged", async () => {
    const deep = `{"model":"m","messages":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const r = await fetch(`${h.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json", "x-request-id": "deep-1" },
      body: deep,
    });
    expect(r.status).toBe(400);
    expect(await errorOf(r)).toEqual({
      message: `the JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`,
      type: "invalid_request_error",
      param: null,
      code: "json_too_deep",
    });
    const row = await logRow("deep-1");
    expect(row).toMatchObject({ status: 400, error_class: "invalid_request", api_key_id: h.keyId });
    expect(row.error_message as string).toContain("nested more than");
  });

  test("nesting up to the limit is fine, and brackets inside strings do not count", async () => {
    const ok = {
      model: "m",
      messages: [{ role: "user", content: "[[[{{{".repeat(1000) }],
      metadata: JSON.parse(`${"[".repeat(MAX_JSON_DEPTH - 1)}${"]".repeat(MAX_JSON_DEPTH - 1)}`),
    };
    const r = await fetch(`${h.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json" },
      body: JSON.stringify(ok),
    });
    // Past parsing: no provider serves "m" in this workspace.
    expect(r.status).toBe(404);
  });

  test("the JSON API refuses deep nesting too", async () => {
    const r = await h.t.call("POST", "/auth/login", { body: `{"email":${"[".repeat(5000)}${"]".repeat(5000)}}` });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("json_too_deep");
  });
});

describe("NUL characters", () => {
  test("anonymous sign-up with a NUL in the email or the name is a 422 naming the field", async () => {
    for (const field of ["email", "name"]) {
      const body = {
        email: "nul@example.com",
        password: "correct horse battery",
        name: "Ada",
        [field]: field === "email" ? "nul\u0000@example.com" : "A\u0000da",
      };
      const r = await h.t.call("POST", "/auth/signup", { body });
      expect(r.status).toBe(422);
      expect(r.body.error).toMatchObject({ param: field, code: "invalid_value" });
      expect(r.body.error.message).toContain("NUL");
    }
  });

  test("a provider name with a NUL is a 422", async () => {
    const r = await h.t.call("POST", `/workspaces/${h.ws.id}/providers`, {
      token: h.owner.token,
      body: { name: "bad\u0000name", type: "ollama" },
    });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("name");
  });

  test("a logs filter with a NUL is a 422 naming the query parameter", async () => {
    const r = await h.t.call("GET", `/workspaces/${h.ws.id}/logs?model=gpt%00x`, { token: h.owner.token });
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({ param: "model", message: "query parameter model must not contain a NUL character (\\u0000)" });
  });

  test("a path id with a NUL is a 422, in the API and in the dashboard", async () => {
    const r = await h.t.call("GET", `/workspaces/${h.ws.id}%00/providers`, { token: h.owner.token });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("path");
    const page = await fetch(`${h.base}/app/w/abc%00def/logs`);
    expect(page.status).toBe(422);
    expect(page.headers.get("content-type")).toContain("text/html");
  });

  test("a /v1 message with a NUL is a 400 naming the field", async () => {
    const r = await fetch(`${h.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "m",
        messages: [
          { role: "user", content: "hi" },
          { role: "user", content: "a\u0000b" },
        ],
      }),
    });
    expect(r.status).toBe(400);
    expect(await errorOf(r)).toMatchObject({ param: "messages[1].content", type: "invalid_request_error" });
  });

  test("a dashboard form field with a NUL is refused with a page, not a 500", async () => {
    const r = await fetch(`${h.base}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "email=a%00b%40example.com&password=x",
    });
    expect(r.status).toBe(422);
    expect(await r.text()).toContain("NUL");
  });
});
