import { Elysia } from "elysia";
import * as v from "valibot";
import type { AppDeps } from "../app.ts";
import { authPlugin, csrfTokenFor } from "../http/auth.ts";
import { LoginBody, SignupBody } from "../accounts/model.ts";
import { verifyLogin } from "../accounts/service.ts";
import { signUp, signupAllowed } from "../accounts/signup.ts";
import { findInvitation } from "../invitations/service.ts";
import { ApiError } from "../http/errors.ts";
import { workspacePath } from "./context.ts";
import { clientAddress } from "../accounts/routes.ts";
import { safeEqual } from "../crypto.ts";
import { LoginPage } from "../../views/pages/login.tsx";
import { SignupPage } from "../../views/pages/signup.tsx";
import { ErrorPage } from "../../views/pages/error.tsx";
import { errorsFor, formBody, issuesToErrors, text } from "./forms.ts";
import { html, pathOf, viewContext } from "./render.ts";
import { clearSessionCookie, loginCsrfToken, safeNext, sessionCookieValue, setSessionCookie, verifyLoginCsrf } from "./session.ts";

/**
 * /signup, /login, POST /logout and / — plain forms (no htmx): signing in changes the session
 * cookie, so a full page load afterwards is what we want.
 */
export function authPages(deps: AppDeps) {

  const expired = async (set: Parameters<typeof html>[0], request: Request, headers: Record<string, string | undefined>, csrf: string) =>
    html(
      set,
      <ErrorPage
        ctx={viewContext({ headers, path: pathOf(request), csrf })}
        status={403}
        title="This form has expired"
        message="The sign-in form was missing its security token (or came from another site). Reload the page and try again."
      />,
      403,
    );

  return new Elysia()
    .use(authPlugin(deps))
    .get("/", async ({ jwt, cookie, redirect }) => {
      const token = sessionCookieValue(cookie);
      const payload = token ? await jwt.verify(token) : false;
      return redirect(payload ? "/app" : "/login", 303);
    })
    .get("/login", async ({ set, cookie, query, headers, request, jwt, redirect }) => {
      const next = safeNext(query.next);
      // Already signed in: go where the link wanted.
      const token = sessionCookieValue(cookie);
      if (token && (await jwt.verify(token))) return redirect(next ?? "/app", 303);
      const csrf = loginCsrfToken(deps, cookie);
      return html(set, <LoginPage ctx={viewContext({ headers, path: pathOf(request), csrf })} next={next} errors={errorsFor({})} />);
    })
    .post("/login", async ({ set, cookie, body, headers, request, server, issueToken, redirect }) => {
      const form = formBody(body);
      const next = safeNext(text(form, "next"));
      if (!verifyLoginCsrf(deps, cookie, form._csrf)) return expired(set, request, headers, loginCsrfToken(deps, cookie));
      const csrf = loginCsrfToken(deps, cookie);
      const ctx = viewContext({ headers, path: pathOf(request), csrf });
      const email = text(form, "email");
      const again = (errors: ReturnType<typeof errorsFor>, status: number) =>
        html(set, <LoginPage ctx={ctx} email={email} next={next} errors={errors} />, status);

      const parsed = v.safeParse(LoginBody, { email, password: text(form, "password") });
      if (!parsed.success) return again(issuesToErrors(parsed.issues), 422);

      // The same guard as the JSON login: failures through either door count together.
      const address = clientAddress(request, server);
      const wait = deps.loginGuard.waitFor(parsed.output.email, address);
      if (wait > 0) {
        const minutes = Math.ceil(wait / 60_000);
        set.headers["retry-after"] = String(Math.ceil(wait / 1000));
        return again(errorsFor({}, `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`), 429);
      }
      const user = await verifyLogin(deps.sql, parsed.output.email, parsed.output.password, deps.passwordOptions);
      if (!user) {
        deps.loginGuard.failed(parsed.output.email, address);
        return again(errorsFor({}, "Wrong email or password."), 401);
      }
      deps.loginGuard.succeeded(parsed.output.email);
      setSessionCookie(deps, cookie, await issueToken(user.id));
      return redirect(next ?? "/app", 303);
    })
    .get("/signup", async ({ set, cookie, query, headers, request }) => {
      const csrf = loginCsrfToken(deps, cookie);
      const blocked = (await signupAllowed(deps.sql, deps.config.signup)) ? null : deps.config.signup === "closed" ? "closed" : "invite";
      return html(
        set,
        <SignupPage
          ctx={viewContext({ headers, path: pathOf(request), csrf })}
          values={{}}
          next={safeNext(query.next)}
          errors={errorsFor({})}
          blocked={blocked}
        />,
      );
    })
    .post("/signup", async ({ set, cookie, body, headers, request, issueToken, redirect }) => {
      const form = formBody(body);
      const next = safeNext(text(form, "next"));
      if (!verifyLoginCsrf(deps, cookie, form._csrf)) return expired(set, request, headers, loginCsrfToken(deps, cookie));
      const ctx = viewContext({ headers, path: pathOf(request), csrf: loginCsrfToken(deps, cookie) });
      const values = { email: text(form, "email"), name: text(form, "name") };
      const token = text(form, "invitation").trim() || undefined;
      // A form from an invitation's page comes back as that page, as long as the invitation can still be used.
      const inv = token ? await findInvitation(deps.sql, token) : null;
      const invitation = token && inv?.status === "pending" ? { token, email: inv.email, role: inv.role, workspace: inv.workspace.name } : null;
      const again = (errors: ReturnType<typeof errorsFor>, status: number, blocked: "invite" | "closed" | null = null) =>
        html(set, <SignupPage ctx={ctx} values={values} next={next} errors={errors} invitation={invitation} blocked={blocked} />, status);

      const parsed = v.safeParse(SignupBody, { ...values, name: values.name.trim() || undefined, password: text(form, "password"), invitation: token });
      if (!parsed.success) return again(issuesToErrors(parsed.issues), 422);
      try {
        const { user, workspace } = await signUp(deps, parsed.output);
        setSessionCookie(deps, cookie, await issueToken(user.id));
        return redirect(workspace ? workspacePath(workspace.id) : (next ?? "/app"), 303);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status >= 500) throw err;
        // Same wording for every address, as in the JSON API: a refusal never confirms that an account exists.
        if (err.code === "signup_failed") return again(errorsFor({}, "We could not create an account with these details. If you already have one, log in."), 400);
        if (err.code === "signup_closed" || err.code === "invitation_required") return again(errorsFor({}), 403, err.code === "signup_closed" ? "closed" : "invite");
        return again(errorsFor({}, err.message.charAt(0).toUpperCase() + err.message.slice(1) + "."), err.status);
      }
    })
    .post("/logout", async ({ cookie, body, headers, jwt, redirect, set, request }) => {
      // Logging out is a state change too: with a live session it needs the session's CSRF token.
      const token = sessionCookieValue(cookie);
      const payload = token ? await jwt.verify(token) : false;
      if (payload && typeof payload.jti === "string") {
        const sent = headers["x-csrf-token"] ?? text(formBody(body), "_csrf");
        if (!sent || !safeEqual(sent, csrfTokenFor(deps, payload.jti))) {
          return html(
            set,
            <ErrorPage
              ctx={viewContext({ headers, path: pathOf(request), csrf: "" })}
              status={403}
              title="This form has expired"
              message="The request was missing its security token or came from another site. Go back, reload the page and try again."
            />,
            403,
          );
        }
      }
      clearSessionCookie(deps, cookie);
      return redirect("/login", 303);
    });
}
