import type { Logger } from "../logger.ts";
import { requestIdFrom } from "../ids.ts";
import { isGatewayPath } from "./cors.ts";
import type { FormErrors } from "../../views/context.ts";

/** The one error shape every JSON route answers with, OpenAI's: {error:{message,type,param,code}}. */
export function errorBody(e: { message: string; type: string; param: string | null; code: string | null }) {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
}

/** Other client errors are invalid_request_error. */
const TYPE_FOR_STATUS: Record<number, string> = {
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  409: "conflict_error",
  429: "rate_limit_error",
};

export class ApiError extends Error {
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  constructor(
    readonly status: number,
    message: string,
    opts: { type?: string; code?: string | null; param?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.type = opts.type ?? TYPE_FOR_STATUS[status] ?? (status >= 500 ? "server_error" : "invalid_request_error");
    this.code = opts.code ?? null;
    this.param = opts.param ?? null;
    this.headers = opts.headers ?? {};
  }
  /** For programs: OpenAI's shape, under /v1 and on the JSON API alike. */
  body() {
    return errorBody(this);
  }
  /** For a form: the message beside the field it names (`models[2]` is the models field), else above the form. */
  formErrors(): FormErrors {
    const field = this.param?.replace(/\[.*$/, "") ?? null;
    return field ? { fields: { [field]: sentence(this.message, field) } } : { fields: {}, form: sentence(this.message) };
  }
  /** For an error page: its status, title and one sentence; null for a server error, which is logged and numbered instead. */
  page(): DashboardPage | null {
    if (this.status === 403 && this.code === "csrf_failed") return { status: 403, title: "This form has expired", message: FORM_EXPIRED };
    if (this.status === 403) return { status: 403, title: "Not allowed", message: sentence(this.message) };
    if (this.status === 404) return NOT_FOUND_PAGE;
    if (this.status < 500) return { status: this.status, title: "Something is not right", message: sentence(this.message) };
    return null;
  }
}

export interface DashboardPage {
  status: number;
  title: string;
  message: string;
}

const FORM_EXPIRED =
  "The request was missing its security token or came from another site, so nothing was changed. Go back, reload the page and try again.";
export const NOT_FOUND_PAGE: DashboardPage = {
  status: 404,
  title: "Not found",
  message: "This page does not exist, or you do not have access to it.",
};

/**
 * A message as a sentence beside its field or on a page, the one wording rule of the dashboard: a leading field
 * name is dropped ("name must not be empty" beside Name reads "Must not be empty."), then capitalised and ended.
 */
export function sentence(message: string, field: string | null = null): string {
  let m = message;
  for (const p of field ? [field, field.replace(/_/g, " ")] : []) {
    if (m.toLowerCase().startsWith(`${p.toLowerCase()} `)) {
      m = m.slice(p.length + 1);
      break;
    }
  }
  m = m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?]$/.test(m) ? m : `${m}.`;
}

export const notFound = (what: string) => new ApiError(404, `${what} not found`, { code: "not_found" });
/** What a lookup found, or a 404 naming what it looked for. */
export const orNotFound = async <T>(found: Promise<T | null>, what: string): Promise<T> => (await found) ?? Promise.reject(notFound(what));
export const unauthorized = (message = "authentication required") => new ApiError(401, message, { code: "unauthorized" });
export const forbidden = (message: string) => new ApiError(403, message, { code: "forbidden" });
export const conflict = (message: string, param: string | null = null) => new ApiError(409, message, { code: "conflict", param });
export const invalid = (message: string, param: string | null, status = 422) =>
  new ApiError(status, message, { code: "invalid_value", param });
export const invalidJson = () =>
  new ApiError(400, "the request body could not be parsed: send valid JSON with content-type: application/json", { code: "invalid_json" });

interface ValibotIssueLike {
  kind?: string;
  type?: string;
  message?: string;
  input?: unknown;
  expected?: string | null;
  path?: { key?: unknown }[];
}

/** `messages[0].content` style, as OpenAI names fields in its errors. */
function issuePath(path: ValibotIssueLike["path"]): string | null {
  if (!path || path.length === 0) return null;
  let out = "";
  for (const item of path) {
    const key = item.key;
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

function issueMessage(issue: ValibotIssueLike, param: string | null): string {
  const name = param ?? "body";
  // Valibot reports a missing key as a type mismatch against `undefined`; say it plainly.
  if (issue.input === undefined && (issue.kind === "schema" || issue.type === "object")) return `${name} is required`;
  const msg = issue.message ?? "is invalid";
  if (/^Invalid (type|key|length|value)/.test(msg)) return `${name}: ${msg}`;
  // Schema messages may already name their field ("name must not be empty").
  const leaf = name.split(/[.[]/).pop() ?? name;
  if (msg.startsWith(`${name} `) || msg.startsWith(`${leaf} `)) return name === leaf ? msg : `${name}: ${msg}`;
  return `${name} ${msg}`;
}

/** Turns an Elysia VALIDATION error (valibot through Standard Schema) into our error. */
export function validationToApiError(error: unknown, status: number): ApiError {
  const e = error as { type?: string; valueError?: ValibotIssueLike };
  const issue = e.valueError ?? {};
  const param = issuePath(issue.path);
  const where = e.type === "query" ? "query parameter " : e.type === "params" ? "path parameter " : "";
  const message = where ? `${where}${issueMessage(issue, param)}` : issueMessage(issue, param);
  return new ApiError(status, message, { code: "invalid_value", param });
}

/**
 * One error renderer for the JSON API and the gateway. Anything unexpected becomes a bare 500
 * with a request id to find the log line; stacks and SQL text stay in the log.
 */
export function renderError(code: string | number, error: unknown, request: Request, logger: Logger): Response {
  const path = new URL(request.url).pathname;
  const underV1 = isGatewayPath(path);
  const err = asApiError(code, error, request, logger, path, underV1);
  const res = new Response(JSON.stringify(err.body()), {
    status: err.status,
    headers: { "content-type": "application/json", ...err.headers },
  });
  // Like every gateway answer, a refused one carries a request id the client can quote.
  if (underV1) res.headers.set("x-request-id", requestIdFrom(request.headers.get("x-request-id")));
  return res;
}

function asApiError(code: string | number, error: unknown, request: Request, logger: Logger, path: string, underV1: boolean): ApiError {
  if (error instanceof ApiError) return error;
  switch (code) {
    case "VALIDATION":
      return validationToApiError(error, underV1 ? 400 : 422);
    case "PARSE":
      return invalidJson();
    case "NOT_FOUND":
      return new ApiError(404, `no route for ${request.method} ${path}`, { code: "unknown_route" });
    case "INVALID_COOKIE_SIGNATURE":
      return unauthorized("invalid session");
  }
  const status = (error as { status?: unknown })?.status;
  if (typeof status === "number" && status >= 400 && status < 500) return new ApiError(status, (error as Error).message || "bad request");
  const id = crypto.randomUUID();
  logger.error("unhandled error", { error_id: id, path, error: error instanceof Error ? error.message : String(error) });
  return new ApiError(500, `internal error (reference ${id})`, { code: "internal_error" });
}
