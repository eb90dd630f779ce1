/**
 * The lean path for the gateway's POST endpoints. Elysia's lifecycle costs every request things
 * the gateway does not use (the headers copied into an object, the dashboard's derives and
 * security headers merged into the answer, a context per request); these routes are hot, so
 * createApp's request hook answers them here with only the steps they need, in Elysia's order:
 * NUL check, CORS, size limit, authentication before the body is read, parse, one validation
 * pass, the handler, and the app's error rendering and refusal logging. The Elysia routes stay
 * registered (docs, app.routes) and serve every other /v1 path.
 */
import { renderError, validationToApiError } from "../http/errors.ts";
import { bodyParser, refuseNulInUrl } from "../http/body.ts";
import { applyCors, type CorsPolicy } from "../http/cors.ts";
import type { Logger } from "../logger.ts";
import type { GatewayServices } from "./services.ts";
import { gatewayKeyFor, recordRefusal, type GatewayPost } from "./routes.ts";

/** `answer` is the answer for a lean route, or undefined when Elysia should route the request. */
export function leanV1(posts: Record<string, GatewayPost>, gw: GatewayServices, cors: CorsPolicy | null, logger: Logger) {
  const parse = bodyParser((request) => gatewayKeyFor(gw, request));
  const run = async (request: Request, post: GatewayPost, corsHeaders: Record<string, unknown>): Promise<Response> => {
    // As under Elysia, whatever breaks while reading a body (a client gone mid-upload) is a parse failure.
    let stage = "PARSE";
    let res: Response;
    try {
      // The gateway reads JSON whatever the declared type, so the declared one is not needed.
      const body = await parse({ request, contentType: "" });
      stage = "UNKNOWN";
      const key = await gatewayKeyFor(gw, request);
      const checked = await post.schema["~standard"].validate(body);
      if (checked.issues) throw validationToApiError({ type: "body", valueError: checked.issues[0] }, 400);
      res = await post.handle(checked.value, key, request);
    } catch (err) {
      // What the handler answered was logged by the handler; what was thrown before it is logged here.
      res = renderError(stage, err, request, logger);
      void recordRefusal(gw, request, res);
    }
    // Of the dashboard's security headers only this one means anything for JSON and event streams.
    res.headers.set("x-content-type-options", "nosniff");
    for (const name in corsHeaders) res.headers.set(name, String(corsHeaders[name]));
    return res;
  };
  return {
    answer(request: Request, path: string): Promise<Response> | undefined {
      if (request.method !== "POST") return;
      const post = posts[path.endsWith("/") ? path.slice(0, -1) : path];
      if (!post) return;
      // Thrown refusals here go to Elysia's error hook like any request hook's.
      refuseNulInUrl(request);
      const corsHeaders: Record<string, unknown> = {};
      // A POST is never a preflight: this only adds the Access-Control-* headers.
      applyCors(cors, request, corsHeaders);
      return run(request, post, corsHeaders);
    },
  };
}
