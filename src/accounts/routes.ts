import { Elysia } from "elysia";
import type { AppDeps } from "../app.ts";
import { ApiError } from "../http/errors.ts";
import { authPlugin } from "../http/auth.ts";
import { listWorkspaces } from "../workspaces/service.ts";
import { LoginBody, SignupBody } from "./model.ts";
import { verifyLogin } from "./service.ts";
import { signUp } from "./signup.ts";

export function clientAddress(request: Request, server: { requestIP(r: Request): { address: string } | null } | null): string {
  return server?.requestIP(request)?.address ?? "unknown";
}

export function accountsRoutes(deps: AppDeps) {

  return new Elysia({ prefix: "/auth" })
    .use(authPlugin(deps))
    .post(
      "/signup",
      async ({ body, issueToken, set }) => {
        const { user, workspace } = await signUp(deps, body);
        set.status = 201;
        return { user, token: await issueToken(user.id), ...(workspace ? { workspace } : {}) };
      },
      { body: SignupBody },
    )
    .post(
      "/login",
      async ({ body, issueToken, request, server }) => {
        const address = clientAddress(request, server);
        const wait = deps.loginGuard.waitFor(body.email, address);
        if (wait > 0) {
          const seconds = Math.ceil(wait / 1000);
          throw new ApiError(429, `too many failed sign-in attempts; try again in ${seconds} s`, {
            code: "too_many_attempts",
            headers: { "retry-after": String(seconds) },
          });
        }
        const user = await verifyLogin(deps.sql, body.email, body.password, deps.passwordOptions);
        if (!user) {
          deps.loginGuard.failed(body.email, address);
          throw new ApiError(401, "wrong email or password", { code: "invalid_credentials" });
        }
        deps.loginGuard.succeeded(body.email);
        return { user, token: await issueToken(user.id) };
      },
      { body: LoginBody },
    )
    .get(
      "/me",
      async ({ session }) => ({ user: session.user, workspaces: await listWorkspaces(deps.sql, session.user.id) }),
      { auth: true },
    );
}
