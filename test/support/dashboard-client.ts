/** The dashboard as a browser sees it, for tests that go through app.handle: cookies, forms, htmx headers. */
import { expect } from "bun:test";
import { CONTENT_SECURITY_POLICY } from "../../src/dashboard/security.ts";

export interface Res {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

type Handler = { handle(r: Request): Promise<Response> };

/** A browser-ish client: a cookie jar, form posts, htmx headers on request. */
export class Client {
  cookies = new Map<string, string>();
  constructor(private app: Handler) {}

  async request(
    method: string,
    path: string,
    opts: { form?: Record<string, string | string[]>; headers?: Record<string, string>; hx?: boolean | string } = {},
  ): Promise<Res> {
    const headers: Record<string, string> = { ...opts.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (opts.hx) {
      headers["hx-request"] = "true";
      headers["hx-request-type"] = "partial";
      headers["hx-target"] = typeof opts.hx === "string" ? opts.hx : "div#frame";
    }
    let body: string | undefined;
    if (opts.form) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
      body = p.toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }
    const res = await this.app.handle(new Request(`http://localhost${path}`, { method, headers, body, redirect: "manual" }));
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (!value || attrs.some((a) => /^\s*max-age=0$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, headers: res.headers, text: await res.text(), location: res.headers.get("location") };
  }
  get = (path: string, opts: { headers?: Record<string, string>; hx?: boolean | string } = {}) => this.request("GET", path, opts);
  post = (path: string, form: Record<string, string | string[]>, opts: { headers?: Record<string, string>; hx?: boolean | string } = {}) =>
    this.request("POST", path, { ...opts, form });
}

export const csrfIn = (html: string): string => {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error("no _csrf field in page");
  return m[1];
};

let n = 0;
/** Signs up through the dashboard's own forms; returns the signed-in client and its CSRF token. */
export async function signedIn(app: Handler, email = `dash${++n}-${crypto.randomUUID().slice(0, 6)}@example.com`) {
  const c = new Client(app);
  const page = await c.get("/signup");
  const r = await c.post("/signup", { _csrf: csrfIn(page.text), email, password: "correct horse battery" });
  if (r.status !== 303) throw new Error(`signup: ${r.status} ${r.text.slice(0, 300)}`);
  const home = await c.get("/app");
  return { c, email, csrf: csrfIn(home.text) };
}

export async function withWorkspace(app: Handler, name = "Acme") {
  const s = await signedIn(app);
  const r = await s.c.post("/app/workspaces", { _csrf: s.csrf, name });
  expect(r.status).toBe(303);
  const id = r.location!.split("/").pop()!;
  return { ...s, id, base: `/app/w/${id}` };
}

export function expectHtml(r: Res, status = 200) {
  expect(r.status).toBe(status);
  expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(r.headers.get("vary")).toBe("HX-Request");
  expect(r.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
  expect(r.headers.get("x-content-type-options")).toBe("nosniff");
  expect(r.headers.get("referrer-policy")).toBe("same-origin");
}
