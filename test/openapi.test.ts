import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";
import { fallbackSummary, isUndocumentedPath, toOpenApiPath } from "../src/openapi/document.ts";
import { describeSchema } from "../src/openapi/docs-page.ts";

let t: TestApp;
let doc: any;

interface RouteLike {
  method: string;
  path: string;
  hooks?: { body?: unknown };
}

/** Every route of the app that the document must describe. */
function documentedRoutes(): RouteLike[] {
  return (t.app.routes as RouteLike[]).filter((r) => !isUndocumentedPath(r.path));
}

beforeAll(async () => {
  t = await testApp();
  const res = await t.call("GET", "/openapi.json");
  expect(res.status).toBe(200);
  doc = res.body;
}, 60_000);
afterAll(() => t.close());

describe("GET /openapi.json", () => {
  test("is an OpenAPI 3.1 document with info, tags and both security schemes", () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info.title).toBe("Perpetuo");
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.components.securitySchemes.session).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(doc.components.securitySchemes.gatewayKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.gatewayKey.bearerFormat).toContain("prp_");
    expect(doc.components.schemas.Error).toBeDefined();
  });

  test("documents every method and path of the app's routes", () => {
    const routes = documentedRoutes();
    expect(routes.length).toBeGreaterThan(5);
    const missing = routes.filter((r) => !doc.paths[toOpenApiPath(r.path)]?.[r.method.toLowerCase()]).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
  });

  test("every documented route declares its own summary in its definition", () => {
    const routes = (t.app.routes as (RouteLike & { hooks?: { detail?: { summary?: string } } })[]).filter(
      (r) => !isUndocumentedPath(r.path),
    );
    const without = routes.filter((r) => !r.hooks?.detail?.summary).map((r) => `${r.method} ${r.path}`);
    expect(without).toEqual([]);
  });

  test("gives every operation a summary, a tag and an explicit security requirement", () => {
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        expect({ op: `${method} ${path}`, summary: typeof op.summary === "string" && op.summary.length > 0 }).toEqual({
          op: `${method} ${path}`,
          summary: true,
        });
        expect(op.tags?.length).toBeGreaterThan(0);
        expect(Array.isArray(op.security)).toBe(true);
        expect(Object.keys(op.responses ?? {}).length).toBeGreaterThan(0);
      }
    }
  });

  test("carries a request body schema for every route that validates a body", () => {
    const withBody = documentedRoutes().filter((r) => r.hooks?.body && !["GET", "HEAD"].includes(r.method));
    expect(withBody.length).toBeGreaterThan(0);
    for (const r of withBody) {
      const op = doc.paths[toOpenApiPath(r.path)][r.method.toLowerCase()];
      const schema = op.requestBody?.content?.["application/json"]?.schema;
      expect({
        route: `${r.method} ${r.path}`,
        hasSchema: !!schema && (!!schema.type || !!schema.properties || !!schema.$ref || !!schema.anyOf),
      }).toEqual({
        route: `${r.method} ${r.path}`,
        hasSchema: true,
      });
    }
  });

  test("turns the valibot rules of a body into JSON Schema (signup: required fields, lengths, email format)", () => {
    const schema = doc.paths["/auth/signup"].post.requestBody.content["application/json"].schema;
    expect(schema.type).toBe("object");
    expect(schema.required).toEqual(expect.arrayContaining(["email", "password"]));
    expect(schema.required).not.toContain("name");
    expect(schema.properties.email).toMatchObject({ type: "string", format: "email", maxLength: 254 });
    expect(schema.properties.password).toMatchObject({ type: "string", minLength: 10 });
    expect(JSON.stringify(doc)).not.toContain('"$schema"');
  });

  test("describes path parameters with OpenAPI's {name} syntax", () => {
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      expect(path).not.toContain(":");
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const op of Object.values<any>(item)) {
        const inPath = (op.parameters ?? []).filter((p: any) => p.in === "path").map((p: any) => p.name);
        expect(inPath.sort()).toEqual([...names].sort());
      }
    }
  });

  test("asks for a gateway key under /v1, a session for the workspace API and nothing for signup, login and health", () => {
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const op of Object.values<any>(item)) {
        if (path.startsWith("/v1/")) expect(op.security).toEqual([{ gatewayKey: [] }]);
        if (path.startsWith("/workspaces")) expect(op.security).toContainEqual({ session: [] });
      }
    }
    expect(doc.paths["/auth/signup"].post.security).toEqual([]);
    expect(doc.paths["/auth/login"].post.security).toEqual([]);
    expect(doc.paths["/auth/me"].get.security).toContainEqual({ session: [] });
    expect(doc.paths["/healthz"].get.security).toEqual([]);
  });

  test("leaves out the document itself, its page and static files", () => {
    expect(doc.paths["/openapi.json"]).toBeUndefined();
    expect(doc.paths["/docs"]).toBeUndefined();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/public"))).toEqual([]);
  });
});

describe("GET /docs", () => {
  test("is a self-contained HTML page: no scripts, nothing from another origin, a strict CSP", async () => {
    const res = await t.call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.text).not.toMatch(/<script/i);
    expect(res.text).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  test("lists every documented route with its method, path and summary", async () => {
    const res = await t.call("GET", "/docs");
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        const escapedPath = path.replace(/&/g, "&amp;").replace(/</g, "&lt;");
        expect(res.text).toContain(`${method.toUpperCase()} ${escapedPath}`);
        expect(res.text).toContain(
          op.summary.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;"),
        );
      }
    }
  });

  test("shows a body's fields with their rules", async () => {
    const res = await t.call("GET", "/docs");
    const signup = res.text.slice(res.text.indexOf('id="op-post--auth-signup"'));
    expect(signup).toContain("<code>password</code>");
    expect(signup).toContain("string (10–200 chars)");
    expect(signup).toContain("Auth: none");
  });
});

describe("documentation helpers", () => {
  test("Elysia paths become OpenAPI paths", () => {
    expect(toOpenApiPath("/workspaces/")).toBe("/workspaces");
    expect(toOpenApiPath("/workspaces/:id/providers/:pid")).toBe("/workspaces/{id}/providers/{pid}");
    expect(toOpenApiPath("/")).toBe("/");
  });

  test("a route without a summary still gets a readable one", () => {
    expect(fallbackSummary("POST", "/workspaces/{id}/members")).toBe("Create a member");
    expect(fallbackSummary("DELETE", "/workspaces/{id}/members/{uid}")).toBe("Delete a member");
    expect(fallbackSummary("POST", "/workspaces/{id}/api-keys/{kid}/revoke")).toBe("Revoke an api key");
    expect(fallbackSummary("GET", "/workspaces/{id}/logs")).toBe("List logs");
  });

  test("schemas read as one line", () => {
    expect(describeSchema({ type: "string", minLength: 1, maxLength: 64 })).toBe("string (1–64 chars)");
    expect(describeSchema({ type: "array", items: { type: "string" }, maxItems: 100 })).toBe("array of string (≤ 100 items)");
    expect(describeSchema({ enum: ["openai", "anthropic"] })).toBe('"openai" | "anthropic"');
    expect(describeSchema({ anyOf: [{ type: "string" }, { type: "null" }] })).toBe("string | null");
  });
});
