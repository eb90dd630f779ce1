/**
 * The lean path for the gateway's POST endpoints. Elysia's lifecycle costs every request things
 * the gateway does not use (the headers copied into an object, the dashboard's derives and
 * security headers merged into the answer, a context per request); these routes are hot, so
 * createApp's request hook answers them here with only the steps they need, in Elysia's order:
 * NUL check, CORS, size limit, authentication before the body is read, parse, one validation
 * pass, the handler, and the app's error rendering and refusal logging. The Elysia routes stay
 * registered (docs, app.routes) and serve every other /v1 path.
 */
import type * as v from "valibot";
import { renderError, validationToApiError } from "../http/errors.ts";
import { bodyParser, refuseNulInUrl } from "../http/body.ts";
import { applyCors, type CorsPolicy } from "../http/cors.ts";
import type { Logger } from "../logger.ts";
import type { GatewayKey } from "./cache.ts";
import type { GatewayHandler } from "./routes.ts";

type Schema = v.GenericSchema | v.GenericSchemaAsync;

interface LeanRoute {
  schema: Schema;
  handle: GatewayHandler;
}

interface LeanV1 {
  /** The answer for a lean route, or undefined when Elysia should route the request. */
  answer(request: Request, path: string): Promise<Response> | undefined;
}

export function leanV1(opts: {
  routes: Record<string, LeanRoute>;
  cors: CorsPolicy | null;
  logger: Logger;
  keyFor: (request: Request) => Promise<GatewayKey>;
  /** Logs a refused request's row (gateway/routes.ts recordRefusal). */
  refused: (request: Request, res: Response) => Promise<void>;
}): LeanV1 {
  const parse = bodyParser((request) => opts.keyFor(request));
  const run = async (request: Request, route: LeanRoute, corsHeaders: Record<string, unknown>): Promise<Response> => {
    let res: Response;
    let body: unknown;
    try {
      // The gateway reads JSON whatever the declared type, so the declared one is not needed.
      body = await parse({ request, contentType: "" });
    } catch (err) {
      // As under Elysia, whatever breaks while reading a body (a client gone mid-upload) is a parse failure.
      return refuse(request, renderError("PARSE", err, request, opts.logger), corsHeaders);
    }
    try {
      const key = await opts.keyFor(request);
      const checked = await route.schema["~standard"].validate(body);
      if (checked.issues) throw validationToApiError({ type: "body", valueError: checked.issues[0] }, 400);
      res = await route.handle(checked.value, key, request);
    } catch (err) {
      return refuse(request, renderError("UNKNOWN", err, request, opts.logger), corsHeaders);
    }
    return withCors(res, corsHeaders);
  };
  // What the handler answered was logged by the handler; what was thrown before it is logged here.
  const refuse = (request: Request, res: Response, corsHeaders: Record<string, unknown>): Response => {
    void opts.refused(request, res);
    return withCors(res, corsHeaders);
  };
  const withCors = (res: Response, corsHeaders: Record<string, unknown>): Response => {
    // Of the dashboard's security headers only this one means anything for JSON and event streams.
    res.headers.set("x-content-type-options", "nosniff");
    for (const name in corsHeaders) res.headers.set(name, String(corsHeaders[name]));
    return res;
  };
  return {
    answer(request, path) {
      if (request.method !== "POST") return;
      const route = opts.routes[path.endsWith("/") ? path.slice(0, -1) : path];
      if (!route) return;
      // Thrown refusals here go to Elysia's error hook like any request hook's.
      refuseNulInUrl(request);
      const corsHeaders: Record<string, unknown> = {};
      // A POST is never a preflight: this only adds the Access-Control-* headers.
      applyCors(opts.cors, request, corsHeaders);
      return run(request, route, corsHeaders);
    },
  };
}
