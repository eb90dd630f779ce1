import { redirect } from "elysia";
import * as v from "valibot";
import type { AppDeps } from "../deps.ts";
import { signedInRoutes } from "../http/routes.ts";
import { endAllSessions } from "../accounts/sessions.ts";
import { csrfTokenFor } from "../http/auth.ts";
import { LoginBody, SignupBody } from "../accounts/model.ts";
import { BusyError, verifyLogin } from "../accounts/service.ts";
import { guardedPasswordCheck } from "../accounts/routes.ts";
import { clientAddress } from "../http/client-address.ts";
import { signUp, signupAllowed } from "../accounts/signup.ts";
import { findInvitation } from "../invitations/service.ts";
import { ApiError, sentence } from "../http/errors.ts";
import { guestContext, toWorkspace } from "./context.tsx";
import { createWorkspace } from "../workspaces/service.ts";
import { actorFor } from "../events.ts";
import { firstWorkspaceName } from "../workspaces/first-run.ts";
import { safeEqual } from "../crypto.ts";
import { LoginPage } from "../../views/pages/login.tsx";
import { SignupPage } from "../../views/pages/signup.tsx";
import { ErrorPage } from "../../views/pages/error.tsx";
import type { ViewContext } from "../../views/context.ts";
import { errorsFor, formBody, issuesToErrors, text, type FormBody } from "./forms.ts";
import { html, pathOf, viewContext, type SetLike } from "./render.ts";
import {
  clearSessionCookie,
  safeNext,
  sessionCookieValue,
  setSessionCookie,
  signedIn,
  verifyLoginCsrf,
  type CookieJar,
} from "./session.ts";

/**
 * /signup, /login, POST /logout and / — plain forms (no htmx): signing in changes the session
 * cookie, so a full page load afterwards is what we want.
 */
export function authPages(deps: AppDeps) {
  // "open" while the instance has no account yet, whatever the setting: the first one is always allowed.
  const signupMode = async () => ((await signupAllowed(deps.sql, deps.config.signup)) ? "open" : deps.config.signup);

  /**
   * A sign-in or sign-up form's post, answered with its fields, where to go after and the page context;
   * or refused (403) when its CSRF token does not match the pre-session cookie (checked before the context may renew it).
   */
  function guestPost(answer: (c: GuestBits, post: { form: FormBody; next: string | null; ctx: ViewContext }) => Promise<unknown>) {
    return (c: GuestBits) => {
      const form = formBody(c.body);
      const fresh = verifyLoginCsrf(deps, c.cookie, form._csrf);
      const ctx = guestContext(deps, c);
      return fresh ? answer(c, { form, next: safeNext(text(form, "next")), ctx }) : expired(c.set, ctx, SIGN_IN_EXPIRED);
    };
  }

  return signedInRoutes(deps)
    .get("/", async (c) => redirect((await signedIn(c)) ? "/app" : "/login", 303), {
      detail: { summary: "Redirect to the dashboard, or to the sign-in page" },
    })
    .get(
      "/login",
      async (c) => {
        const next = safeNext(c.query.next);
        // Already signed in (with a session that has not been ended): go where the link wanted.
        if (await signedIn(c)) return redirect(next ?? "/app", 303);
        const ctx = guestContext(deps, c);
        return html(c.set, <LoginPage ctx={ctx} next={next} errors={errorsFor({})} signup={await signupMode()} />);
      },
      { detail: { summary: "Sign-in page" } },
    )
    .post(
      "/login",
      guestPost(async (c, { form, next, ctx }) => {
        const { set, cookie, request, server, issueToken } = c;
        const email = text(form, "email");
        const again = async (errors: ReturnType<typeof errorsFor>, status: number) =>
          html(set, <LoginPage ctx={ctx} email={email} next={next} errors={errors} signup={await signupMode()} />, status);

        const parsed = v.safeParse(LoginBody, { email, password: text(form, "password") });
        if (!parsed.success) return again(issuesToErrors(parsed.issues), 422);

        // The same guard as the JSON login: failures through either door count together.
        const address = clientAddress(request, server, deps.config.trustedProxies);
        const result = await guardedPasswordCheck(deps, parsed.output.email, address, () =>
          verifyLogin(deps.sql, parsed.output.email, parsed.output.password, deps.passwordOptions),
        );
        if ("wait" in result) {
          const minutes = Math.ceil(result.wait / 60_000);
          set.headers["retry-after"] = String(Math.ceil(result.wait / 1000));
          return again(errorsFor({}, `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`), 429);
        }
        if ("busy" in result) {
          set.headers["retry-after"] = "1";
          return again(errorsFor({}, "The server is busy. Try again in a moment."), 503);
        }
        if ("wrong" in result) return again(errorsFor({}, "Wrong email or password."), 401);
        setSessionCookie(deps, cookie, await issueToken(result.ok.id));
        return redirect(next ?? "/app", 303);
      }),
      { detail: { summary: "Sign in (form); sets the session cookie" } },
    )
    .get(
      "/signup",
      async (c) => {
        const ctx = guestContext(deps, c);
        const mode = await signupMode();
        const blocked = mode === "open" ? null : mode;
        return html(c.set, <SignupPage ctx={ctx} values={{}} next={safeNext(c.query.next)} errors={errorsFor({})} blocked={blocked} />);
      },
      { detail: { summary: "Sign-up page" } },
    )
    .post(
      "/signup",
      guestPost(async (c, { form, next, ctx }) => {
        const { set, cookie, request, server, issueToken } = c;
        const values = { email: text(form, "email"), name: text(form, "name") };
        const token = text(form, "invitation").trim() || undefined;
        // A form from an invitation's page comes back as that page, as long as the invitation can still be used.
        const inv = token ? await findInvitation(deps.sql, token) : null;
        const invitation =
          token && inv?.status === "pending" ? { token, email: inv.email, role: inv.role, workspace: inv.workspace.name } : null;
        const again = (errors: ReturnType<typeof errorsFor>, status: number, blocked: "invite" | "closed" | null = null) =>
          html(set, <SignupPage ctx={ctx} values={values} next={next} errors={errors} invitation={invitation} blocked={blocked} />, status);

        const parsed = v.safeParse(SignupBody, {
          ...values,
          name: values.name.trim() || undefined,
          password: text(form, "password"),
          invitation: token,
        });
        if (!parsed.success) return again(issuesToErrors(parsed.issues), 422);
        const wait = deps.loginGuard.reserveSignup(clientAddress(request, server, deps.config.trustedProxies));
        if (wait > 0) {
          set.headers["retry-after"] = String(Math.ceil(wait / 1000));
          return again(errorsFor({}, `Too many sign-ups from this address. Try again in ${Math.ceil(wait / 60_000)} minutes.`), 429);
        }
        try {
          const { user, workspace } = await signUp(deps, parsed.output);
          setSessionCookie(deps, cookie, await issueToken(user.id));
          if (workspace) return toWorkspace(workspace.id);
          // An invitation to accept comes first (its workspace is the one they came for); anyone else starts
          // in a workspace of their own, on the checklist, rather than on an empty list.
          if (next?.startsWith("/app/invite/")) return redirect(next, 303);
          const first = await createWorkspace(actorFor(deps, user.id), firstWorkspaceName(user.name));
          return toWorkspace(first.id, "/start");
        } catch (err) {
          if (err instanceof BusyError) return again(errorsFor({}, "The server is busy. Try again in a moment."), 503);
          if (!(err instanceof ApiError) || err.status >= 500) throw err;
          // Same wording for every address, as in the JSON API: a refusal never confirms that an account exists.
          if (err.code === "signup_failed")
            return again(errorsFor({}, "We could not create an account with these details. If you already have one, log in."), 400);
          if (err.code === "signup_closed" || err.code === "invitation_required")
            return again(errorsFor({}), 403, err.code === "signup_closed" ? "closed" : "invite");
          return again(errorsFor({}, sentence(err.message)), err.status);
        }
      }),
      { detail: { summary: "Create an account (form); sets the session cookie" } },
    )
    .post("/logout", logout("one"), { detail: { summary: "Sign out (form); clears the session cookie" } })
    .post("/logout-all", logout("all"), {
      detail: { summary: "Sign out everywhere (form): ends every session of the user", security: [{ sessionCookie: [] }] },
    });

  /**
   * Ends the cookie's session (or all of the user's) and drops the cookie. Logging out is a state change
   * too: with a signed session cookie it needs that session's CSRF token, even when the session already ended.
   */
  function logout(scope: "one" | "all") {
    return async (
      c: Omit<GuestBits, "server" | "issueToken"> & { jwt: { verify(token: string): Promise<false | Record<string, unknown>> } },
    ) => {
      const token = sessionCookieValue(c.cookie);
      const payload = token ? await c.jwt.verify(token) : false;
      if (payload && typeof payload.jti === "string" && typeof payload.sub === "string") {
        const sent = c.headers["x-csrf-token"] ?? text(formBody(c.body), "_csrf");
        if (!sent || !safeEqual(sent, csrfTokenFor(deps, payload.jti))) {
          const ctx = viewContext({ headers: c.headers, path: pathOf(c.request), csrf: "" });
          return expired(
            c.set,
            ctx,
            "The request was missing its security token or came from another site. Go back, reload the page and try again.",
          );
        }
        if (scope === "one") await deps.sessions.end(payload.jti);
        // Only a live session may end the others: an ended token's CSRF token is no licence.
        else if (await deps.sessions.user(payload.jti, payload.sub)) await endAllSessions(deps, payload.sub);
      }
      clearSessionCookie(deps, c.cookie);
      return redirect("/login", 303);
    };
  }
}

/** What a sign-in or sign-up form's post uses of Elysia's context. */
interface GuestBits {
  body: unknown;
  cookie: CookieJar;
  headers: Record<string, string | undefined>;
  request: Request;
  set: SetLike;
  server: Parameters<typeof clientAddress>[1];
  issueToken(userId: string): Promise<string>;
}

const SIGN_IN_EXPIRED = "The sign-in form was missing its security token (or came from another site). Reload the page and try again.";

/** 403 for a form whose CSRF token is missing or wrong: nothing was done. */
function expired(set: SetLike, ctx: ViewContext, message: string) {
  return html(set, <ErrorPage ctx={ctx} status={403} title="This form has expired" message={message} />, 403);
}
