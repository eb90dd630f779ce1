import { randomBytes } from "node:crypto";
import type { AppDeps } from "../deps.ts";
import { deriveKey, hmac, safeEqual } from "../crypto.ts";
import { SESSION_COOKIE, sessionTtl } from "../http/auth.ts";

/** The pre-session cookie the sign-in forms' CSRF token is bound to. */
const LOGIN_CSRF_COOKIE = "perpetuo_login_csrf";

export interface CookieJar {
  [name: string]: {
    value: unknown;
    set(opts: {
      value: string;
      httpOnly?: boolean;
      secure?: boolean;
      sameSite?: "lax" | "strict" | "none";
      path?: string;
      maxAge?: number;
    }): unknown;
    remove(): unknown;
  };
}

/** Sets one of our cookies: httpOnly and SameSite=Lax, site-wide, Secure when the dashboard is served over https. */
function setCookie(deps: AppDeps, cookie: CookieJar, name: string, value: string, maxAge: number): void {
  const secure = deps.config.publicUrl.startsWith("https://");
  cookie[name].set({ value, httpOnly: true, secure, sameSite: "lax", path: "/", maxAge });
}

/** The session JWT as a cookie that lives as long as the token. */
export const setSessionCookie = (deps: AppDeps, cookie: CookieJar, token: string) =>
  setCookie(deps, cookie, SESSION_COOKIE, token, sessionTtl(deps));

export const clearSessionCookie = (deps: AppDeps, cookie: CookieJar) => setCookie(deps, cookie, SESSION_COOKIE, "", 0);

export function sessionCookieValue(cookie: CookieJar): string | null {
  const v = cookie[SESSION_COOKIE]?.value;
  return typeof v === "string" && v ? v : null;
}

/** Whether the session cookie stands for a live session: signed, unexpired and not ended since. */
export async function signedIn(c: { cookie: CookieJar; readSession(token: string): Promise<unknown> }): Promise<boolean> {
  const token = sessionCookieValue(c.cookie);
  return !!token && !!(await c.readSession(token));
}

/**
 * Sign-in and sign-up forms have no session to bind a CSRF token to, so they use a pre-session
 * cookie: a random value in an httpOnly cookie, and in the form an HMAC of it under a key derived
 * from the server secret. A cross-site form can neither read the cookie nor compute the HMAC (and
 * SameSite=Lax keeps the cookie off cross-site POSTs anyway). This stops login CSRF: an attacker
 * signing a victim into the attacker's account.
 */
export function loginCsrfToken(deps: AppDeps, cookie: CookieJar): string {
  let value = cookie[LOGIN_CSRF_COOKIE]?.value;
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]{32,}$/.test(value)) {
    value = randomBytes(32).toString("base64url");
    setCookie(deps, cookie, LOGIN_CSRF_COOKIE, value as string, 24 * 3600);
  }
  return loginTokenFor(deps, value as string);
}

const loginTokenFor = (deps: AppDeps, cookieValue: string) => hmac(deriveKey(deps.config.secret, "login-csrf"), cookieValue);

export function verifyLoginCsrf(deps: AppDeps, cookie: CookieJar, sent: unknown): boolean {
  const value = cookie[LOGIN_CSRF_COOKIE]?.value;
  if (typeof value !== "string" || !value || typeof sent !== "string" || !sent) return false;
  return safeEqual(sent, loginTokenFor(deps, value));
}

/**
 * `next` after signing in: only a local dashboard path. Anything else (another host, `//evil`,
 * `/\evil`, a scheme, control characters) is dropped, so the sign-in page is no open redirect.
 */
export function safeNext(next: unknown): string | null {
  if (typeof next !== "string" || next.length > 2000) return null;
  if (!/^\/app(?:[/?#]|$)/.test(next)) return null;
  if (next.includes("//") || next.includes("\\") || /[\u0000-\u001f\u007f]/.test(next)) return null;
  return next;
}
