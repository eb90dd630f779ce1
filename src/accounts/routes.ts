import type { AppDeps } from "../deps.ts";
import { signedInRoutes } from "../http/routes.ts";
import { endAllSessions } from "./sessions.ts";
import { ApiError } from "../http/errors.ts";
import { clientAddress } from "../http/client-address.ts";
import { listWorkspaces } from "../workspaces/service.ts";
import { LoginBody, PasswordChangeBody, SignupBody } from "./model.ts";
import { BusyError, changePassword, verifyLogin, type PublicUser } from "./service.ts";
import { signUp } from "./signup.ts";

const tooMany = (wait: number, what: string) => {
  const seconds = Math.ceil(wait / 1000);
  return new ApiError(429, `too many ${what}; try again in ${seconds} s`, {
    code: "too_many_attempts",
    headers: { "retry-after": String(seconds) },
  });
};

const busy = () =>
  new ApiError(503, "the server is busy checking other passwords; try again in a moment", {
    type: "server_error",
    code: "server_busy",
    headers: { "retry-after": "1" },
  });

/**
 * Checks a password under the sign-in limits (LoginGuard): counted as a failure before the hash
 * is checked, forgiven when it is right, not counted at all when the server was too busy to check.
 */
export async function guardedPasswordCheck<T>(
  deps: AppDeps,
  email: string,
  address: string,
  check: () => Promise<T | null | false>,
): Promise<{ ok: T } | { wait: number } | { wrong: true } | { busy: true }> {
  const reserved = deps.loginGuard.reserve(email, address);
  if ("wait" in reserved) return { wait: reserved.wait };
  try {
    const result = await check();
    if (!result) return { wrong: true };
    deps.loginGuard.succeeded(reserved.ticket);
    return { ok: result };
  } catch (err) {
    deps.loginGuard.released(reserved.ticket);
    if (err instanceof BusyError) return { busy: true };
    throw err;
  }
}

export function accountsRoutes(deps: AppDeps) {
  const addressOf = (request: Request, server: Parameters<typeof clientAddress>[1]) =>
    clientAddress(request, server, deps.config.trustedProxies);

  return signedInRoutes(deps, "/auth")
    .post(
      "/signup",
      async ({ body, issueToken, set, request, server }) => {
        const wait = deps.loginGuard.reserveSignup(addressOf(request, server));
        if (wait > 0) throw tooMany(wait, "sign-ups from this address");
        try {
          const { user, workspace } = await signUp(deps, body);
          set.status = 201;
          return { user, token: await issueToken(user.id), ...(workspace ? { workspace } : {}) };
        } catch (err) {
          if (err instanceof BusyError) throw busy();
          throw err;
        }
      },
      { body: SignupBody, detail: { summary: "Create an account and get a session token" } },
    )
    .post(
      "/login",
      async ({ body, issueToken, request, server }) => {
        const result = await guardedPasswordCheck(deps, body.email, addressOf(request, server), () =>
          verifyLogin(deps.sql, body.email, body.password, deps.passwordOptions),
        );
        if ("wait" in result) throw tooMany(result.wait, "failed sign-in attempts");
        if ("busy" in result) throw busy();
        if ("wrong" in result) throw new ApiError(401, "wrong email or password", { code: "invalid_credentials" });
        return { user: result.ok, token: await issueToken(result.ok.id) };
      },
      { body: LoginBody, detail: { summary: "Sign in and get a session token" } },
    )
    .post(
      "/logout",
      async ({ session, set }) => {
        await deps.sessions.end(session.sessionId);
        set.status = 204;
      },
      { auth: true, detail: { summary: "Sign out: this session token stops working at once" } },
    )
    .post(
      "/logout-all",
      async ({ session, set }) => {
        await endAllSessions(deps, session.user.id);
        set.status = 204;
      },
      { auth: true, detail: { summary: "Sign out everywhere: every session of the user ends, this one included" } },
    )
    .post(
      "/password",
      async ({ body, session, issueToken, request, server }) => {
        const user: PublicUser = session.user;
        // Throttled like a sign-in: a stolen session must not become a password-guessing oracle.
        const result = await guardedPasswordCheck(deps, user.email, addressOf(request, server), () =>
          changePassword(deps.sql, user.id, body.current_password, body.new_password, deps.passwordOptions),
        );
        if ("wait" in result) throw tooMany(result.wait, "failed password attempts");
        if ("busy" in result) throw busy();
        if ("wrong" in result)
          throw new ApiError(403, "current_password is wrong", { code: "invalid_credentials", param: "current_password" });
        // A new password ends every session, this one too; the caller continues with the new token.
        await endAllSessions(deps, user.id, "password changed; all sessions ended");
        return { user, token: await issueToken(user.id) };
      },
      { auth: true, body: PasswordChangeBody, detail: { summary: "Change the password; ends every session and returns a new token" } },
    )
    .get("/me", async ({ session }) => ({ user: session.user, workspaces: await listWorkspaces(deps.sql, session.user.id) }), {
      auth: true,
      detail: { summary: "The signed-in user and their workspaces" },
    });
}
