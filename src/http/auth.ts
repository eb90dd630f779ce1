import { Elysia } from "elysia";
import { jwt } from "@elysiajs/jwt";
import { createId } from "@paralleldrive/cuid2";
import type { AppDeps } from "../deps.ts";
import { deriveKey, hmac, safeEqual } from "../crypto.ts";
import type { PublicUser } from "../accounts/service.ts";
import { getMembership, type Membership } from "../workspaces/service.ts";
import { actorFor } from "../events.ts";
import { ApiError, forbidden, notFound, unauthorized } from "./errors.ts";

export const SESSION_COOKIE = "perpetuo_session";
const DEFAULT_TTL_SECONDS = 7 * 24 * 3600;

export interface Session {
  user: PublicUser;
  /** The token's id; CSRF tokens are bound to it. */
  sessionId: string;
  via: "bearer" | "cookie";
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function sessionTtl(deps: AppDeps): number {
  return deps.sessionTtlSeconds ?? DEFAULT_TTL_SECONDS;
}

export function csrfTokenFor(deps: AppDeps, sessionId: string): string {
  return hmac(deriveKey(deps.config.secret, "csrf"), sessionId);
}

export type Role = Membership["role"];
export const RANK: Record<Role, number> = { member: 1, admin: 2, owner: 3 };

/**
 * JWT sessions (Bearer or httpOnly cookie) and the workspace membership guard, as macros:
 * `{ auth: true }` resolves `session` and `actor` (the signed-in user, for the services' changes);
 * `{ workspace: "member" | "admin" | "owner" }` also resolves `membership` for params.id and
 * answers 404 to non-members so ids of other workspaces leak nothing.
 */
export function authPlugin(deps: AppDeps) {
  const ttl = sessionTtl(deps);
  return new Elysia({ name: "perpetuo:auth", seed: deps.config.secret })
    .use(
      jwt({
        name: "jwt",
        secret: new Uint8Array(deriveKey(deps.config.secret, "jwt")),
        alg: "HS256",
        exp: `${ttl}s`,
      }),
    )
    .derive({ as: "global" }, ({ jwt }) => ({
      /** Opens a server-side session for a user and returns its token. */
      issueToken: async (userId: string) => {
        const jti = createId();
        // The row outlives the token by a minute so that clock skew never ends it early.
        await deps.sessions.open(userId, jti, new Date(Date.now() + (ttl + 60) * 1000));
        return jwt.sign({ sub: userId, jti });
      },
      /** The live session a token stands for: signature and expiry checked, and not ended since. */
      readSession: async (token: string): Promise<{ user: PublicUser; sessionId: string } | null> => {
        const payload = await jwt.verify(token);
        if (!payload || typeof payload.sub !== "string" || typeof payload.jti !== "string") return null;
        const user = await deps.sessions.user(payload.jti, payload.sub);
        return user ? { user, sessionId: payload.jti } : null;
      },
    }))
    .macro({
      auth: {
        async resolve({ jwt, headers, cookie, request, body }) {
          const header = headers.authorization;
          let token: string | undefined;
          let via: Session["via"] = "bearer";
          if (header) {
            const m = /^Bearer\s+(.+)$/i.exec(header);
            if (!m) throw unauthorized("the Authorization header must be: Bearer <token>");
            token = m[1].trim();
            if (token.startsWith("prp_"))
              throw unauthorized("gateway API keys (prp_…) are accepted only under /v1; sign in to get a session token");
          } else {
            const c = cookie[SESSION_COOKIE]?.value;
            if (typeof c === "string" && c) {
              token = c;
              via = "cookie";
            }
          }
          if (!token) throw unauthorized();
          const payload = await jwt.verify(token);
          if (!payload || typeof payload.sub !== "string" || typeof payload.jti !== "string") {
            throw unauthorized("invalid or expired session token");
          }
          // Checked per request (cached briefly), so logging out ends the token for good.
          const user = await deps.sessions.user(payload.jti, payload.sub);
          if (!user) throw unauthorized("this session has ended (signed out); sign in again");
          // Browsers attach cookies to cross-site requests; a state change by cookie needs the CSRF token.
          if (via === "cookie" && !SAFE_METHODS.has(request.method)) {
            const field = (body as Record<string, unknown> | null | undefined)?._csrf;
            const sent = headers["x-csrf-token"] ?? (typeof field === "string" ? field : undefined);
            if (!sent || !safeEqual(sent, csrfTokenFor(deps, payload.jti))) {
              throw new ApiError(403, "missing or invalid CSRF token", { code: "csrf_failed" });
            }
          }
          const session: Session = { user, sessionId: payload.jti, via };
          return { session, actor: actorFor(deps, user.id) };
        },
      },
      workspace(role: Role | true) {
        const need: Role = role === true ? "member" : role;
        return {
          auth: true,
          async resolve(ctx) {
            // `auth: true` above runs first; Elysia's types do not carry its resolve into this one.
            const { session, params } = ctx as unknown as { session: Session; params: Record<string, string | undefined> };
            const id = params.id;
            if (!id) throw notFound("workspace");
            const membership = await getMembership(deps.sql, id, session.user.id);
            if (!membership) throw notFound("workspace");
            if (RANK[membership.role] < RANK[need]) {
              throw forbidden(`this needs the ${need} role in the workspace; you are ${membership.role}`);
            }
            return { membership };
          },
        };
      },
    });
}
