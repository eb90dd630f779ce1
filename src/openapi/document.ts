// The OpenAPI 3.1 document of a Perpetuo app, generated from the routes themselves: every route's
// valibot schemas (params, query, headers, body, response) become JSON Schema through
// @valibot/to-json-schema, walked by @elysiajs/openapi's generator (the plugin's UI, which loads
// scripts from a CDN, is not used). Summaries and security come from each route's `detail` when it
// has one, else from the defaults below, so a new route is documented the moment it exists.
import type { AnyElysia } from "elysia";
import { toOpenAPISchema } from "@elysiajs/openapi/openapi";
import { toJsonSchema } from "@valibot/to-json-schema";
import type { OpenAPIV3_1 } from "openapi-types";

export type OpenApiDocument = OpenAPIV3_1.Document;
type Operation = OpenAPIV3_1.OperationObject;

const OPENAPI_VERSION = "3.1.0";
export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** The path is `root` or below it. */
const under = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/** Routes that are not part of the API: the document itself, its page, static files. */
export function isUndocumentedPath(path: string): boolean {
  return path === "/openapi.json" || path === "/docs" || under(path, "/public");
}

/** Elysia's `/workspaces/:id/` as OpenAPI writes it: `/workspaces/{id}`. */
export function toOpenApiPath(path: string): string {
  const p = path.replace(/:([A-Za-z0-9_]+)\??/g, "{$1}").replace(/\/\*$/, "/{*}");
  return p.length > 1 ? p.replace(/\/+$/, "") : p;
}

const SECURITY_SCHEMES: Record<string, OpenAPIV3_1.SecuritySchemeObject> = {
  session: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A session token from POST /auth/signup or /auth/login, as `Authorization: Bearer <token>`.",
  },
  sessionCookie: {
    type: "apiKey",
    in: "cookie",
    name: "perpetuo_session",
    description:
      "The dashboard's session cookie. A state-changing request authenticated by it must carry the CSRF token (`x-csrf-token` header or `_csrf` field).",
  },
  gatewayKey: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "prp_…",
    description:
      "A gateway API key of a workspace (`prp_…`), as `Authorization: Bearer prp_…` (or as `x-api-key: prp_…`, the header Anthropic's SDKs send). Accepted only under /v1.",
  },
  metricsToken: {
    type: "http",
    scheme: "bearer",
    description:
      "The operator's METRICS_TOKEN, as `Authorization: Bearer <token>`. Opens GET /metrics only; without METRICS_TOKEN set, /metrics answers 404.",
  },
};

const SESSION: OpenAPIV3_1.SecurityRequirementObject[] = [{ session: [] }, { sessionCookie: [] }];
const GATEWAY: OpenAPIV3_1.SecurityRequirementObject[] = [{ gatewayKey: [] }];
const NONE: OpenAPIV3_1.SecurityRequirementObject[] = [];

/** JSON API routes anyone may call. */
const PUBLIC_API = new Set(["POST /auth/signup", "POST /auth/login"]);

/** Who may call a route, unless its `detail.security` says otherwise. */
function defaultSecurity(method: string, path: string): OpenAPIV3_1.SecurityRequirementObject[] {
  const key = `${method.toUpperCase()} ${path}`;
  if (under(path, "/v1")) return GATEWAY;
  if (PUBLIC_API.has(key)) return NONE;
  if (path.startsWith("/auth/") || under(path, "/workspaces")) return SESSION;
  if (under(path, "/app") || key === "POST /logout") return [{ sessionCookie: [] }];
  return NONE;
}

function tagFor(path: string): string {
  if (under(path, "/v1")) return "gateway";
  if (path.startsWith("/auth/")) return "auth";
  if (under(path, "/workspaces")) return "workspaces";
  if (["/healthz", "/readyz", "/metrics"].includes(path)) return "operations";
  return "dashboard";
}

const TAGS: OpenAPIV3_1.TagObject[] = [
  {
    name: "gateway",
    description: "OpenAI-compatible endpoints (and Anthropic's Messages API) for applications; authenticated with a gateway key (prp_…).",
  },
  { name: "auth", description: "Accounts and sessions." },
  { name: "workspaces", description: "Workspaces and everything in them: members, provider keys, gateway keys, logs, usage." },
  { name: "operations", description: "Health, readiness and metrics for load balancers and monitoring." },
  { name: "dashboard", description: "The server-rendered dashboard (HTML pages and htmx fragments)." },
];

const singular = (word: string) => word.replace(/ies$/, "y").replace(/(?<!s)s$/, "");
const words = (segment: string) => segment.replace(/[-_]/g, " ");
const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const withArticle = (noun: string) => `${/^[aeiou]/i.test(noun) ? "an" : "a"} ${noun}`;

/** A readable summary from the method and path, for routes nobody described. */
export function fallbackSummary(method: string, path: string): string {
  const segments = path.split("/").filter(Boolean);
  const isParam = (s: string | undefined) => !!s && s.startsWith("{");
  const m = method.toUpperCase();
  const last = segments.at(-1);
  if (!last) return `${m} /`;
  if (isParam(last)) {
    const noun = withArticle(singular(words(segments.at(-2) ?? "item")));
    const verb = { GET: "Get", PUT: "Update", PATCH: "Update", DELETE: "Delete", POST: "Act on" }[m] ?? m;
    return `${verb} ${noun}`;
  }
  const name = words(last);
  const prev = segments.at(-2);
  const collection = name.endsWith("s");
  if (m === "GET") return collection ? `List ${name}` : `Get ${name}`;
  if (m === "POST") {
    if (collection) return `Create ${withArticle(singular(name))}`;
    if (isParam(prev)) return `${capital(name)} ${withArticle(singular(words(segments.at(-3) ?? "item")))}`;
    return prev ? `${capital(name)} ${words(prev)}` : capital(name);
  }
  if (m === "PUT" || m === "PATCH") return `Update ${name}`;
  if (m === "DELETE") return `Delete ${name}`;
  return `${m} ${path}`;
}

/** valibot → JSON Schema; transformations (trim, defaults) have no JSON Schema form and are skipped. */
function valibotToJsonSchema(schema: unknown): unknown {
  return toJsonSchema(schema as Parameters<typeof toJsonSchema>[0], { target: "draft-2020-12", errorMode: "ignore" });
}

/** `$schema` on every nested schema is noise inside an OpenAPI document, which names its dialect once. */
function stripSchemaKeywords(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSchemaKeywords);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== "$schema") out[k] = stripSchemaKeywords(v);
    return out;
  }
  return value;
}

const ERROR_SCHEMA: OpenAPIV3_1.SchemaObject = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["message", "type", "param", "code"],
      properties: {
        message: { type: "string" },
        type: { type: "string", examples: ["invalid_request_error", "authentication_error", "not_found_error"] },
        param: { type: ["string", "null"], description: "The offending field, e.g. `messages[0].content`." },
        code: { type: ["string", "null"] },
      },
    },
  },
};

interface DocumentOptions {
  version: string;
  /** Where users reach Perpetuo; becomes the document's server. */
  publicUrl?: string;
}

export function buildOpenApiDocument(app: AnyElysia, opts: DocumentOptions): OpenApiDocument {
  const generated = toOpenAPISchema(
    app,
    { staticFile: false },
    undefined,
    { valibot: valibotToJsonSchema },
    OPENAPI_VERSION as `3.1.${number}`,
  );
  // A route with its own parser (e.g. the gateway's size-limited JSON reader) gets no content from
  // the generator, which only knows the named parsers; such bodies are JSON.
  const bodies = new Map<string, unknown>();
  for (const route of app.routes as { method: string; path: string; hooks?: { body?: unknown } }[]) {
    if (route.hooks?.body) bodies.set(`${route.method.toLowerCase()} ${toOpenApiPath(route.path)}`, route.hooks.body);
  }
  const paths: Record<string, Record<string, Operation>> = {};
  for (const [rawPath, item] of Object.entries(generated.paths)) {
    const path = toOpenApiPath(rawPath);
    if (isUndocumentedPath(path)) continue;
    for (const [method, op] of Object.entries(item ?? {}) as [string, Operation][]) {
      if (!op || typeof op !== "object" || !(HTTP_METHODS as readonly string[]).includes(method)) continue;
      const operation = stripSchemaKeywords(op) as Operation;
      const body = bodies.get(`${method} ${path}`);
      const requestBody = operation.requestBody as OpenAPIV3_1.RequestBodyObject | undefined;
      if (
        body &&
        !Object.keys(requestBody?.content ?? {}).length &&
        (body as { "~standard"?: { vendor?: string } })["~standard"]?.vendor === "valibot"
      ) {
        operation.requestBody = {
          required: true,
          content: { "application/json": { schema: stripSchemaKeywords(valibotToJsonSchema(body)) as OpenAPIV3_1.SchemaObject } },
        };
      }
      operation.summary ||= fallbackSummary(method, path);
      operation.tags = operation.tags?.length ? operation.tags : [tagFor(path)];
      operation.security ??= defaultSecurity(method, path);
      const tag = operation.tags[0];
      if (!Object.keys(operation.responses ?? {}).length) {
        operation.responses = { default: { description: tag === "dashboard" ? "An HTML page or fragment" : "The result" } };
      }
      if (tag !== "dashboard") {
        operation.responses!["4XX"] ??= {
          description: "A client error (validation, authentication, not found, conflict, rate limit)",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        };
      }
      (paths[path] ??= {})[method] = operation;
    }
  }
  const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: "Perpetuo",
      version: opts.version,
      description:
        'A self-hosted LLM gateway: an OpenAI-compatible API under /v1 for applications, and a JSON API for accounts, workspaces, provider keys and gateway keys. Errors always have the shape `{"error":{"message","type","param","code"}}`.',
    },
    servers: opts.publicUrl ? [{ url: opts.publicUrl }] : undefined,
    tags: TAGS,
    paths: sorted as OpenAPIV3_1.PathsObject,
    components: {
      schemas: { ...(stripSchemaKeywords(generated.components.schemas ?? {}) as object), Error: ERROR_SCHEMA },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
