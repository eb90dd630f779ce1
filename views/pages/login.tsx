import type { FormErrors, ViewContext } from "../context.ts";
import { AuthLayout } from "../layout.tsx";
import { Csrf, ErrorSummary, Submit, TextField } from "../components/form.tsx";

interface LoginProps {
  ctx: ViewContext;
  email?: string;
  next?: string | null;
  errors: FormErrors;
  /** The SIGNUP setting as it applies now (the first account of an empty instance is always open). */
  signup: "open" | "invite" | "closed";
}

export function LoginPage(props: LoginProps) {
  const { ctx, errors } = props;
  const nextQuery = props.next ? `?next=${encodeURIComponent(props.next)}` : "";
  return (
    <AuthLayout ctx={ctx} title="Log in">
      <h1>Log in</h1>
      <p class="subtitle">Welcome back. Log in to manage your workspaces.</p>
      <form method="post" action="/login" class="stack" novalidate>
        <Csrf token={ctx.csrf} />
        {!!props.next && <input type="hidden" name="next" value={props.next} />}
        <ErrorSummary errors={errors} />
        <TextField name="email" label="Email" type="email" autocomplete="email" value={props.email} errors={errors} required autofocus />
        <TextField name="password" label="Password" type="password" autocomplete="current-password" errors={errors} required />
        <Submit label="Log in" />
      </form>
      <p class="auth-switch">
        {props.signup === "open" ? (
          <>
            New to Perpetuo? <a href={`/signup${nextQuery}`}>Create an account</a>
          </>
        ) : props.signup === "invite" ? (
          "New here? Accounts are by invitation: ask a workspace admin for an invitation link."
        ) : (
          "New here? Accounts on this Perpetuo are created by its operator."
        )}
      </p>
    </AuthLayout>
  );
}
