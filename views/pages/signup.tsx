import type { FormErrors, ViewContext } from "../context.ts";
import { AuthLayout } from "../layout.tsx";
import { Csrf, ErrorSummary, Submit, TextField } from "../components/form.tsx";

interface SignupProps {
  ctx: ViewContext;
  values: { email?: string; name?: string };
  next?: string | null;
  errors: FormErrors;
  /** The invitation a sign-up form is for: its address is the one the account gets. */
  invitation?: { token: string; email: string; role: string; workspace: string } | null;
  /** Sign-up is not open to this visitor (SIGNUP=invite with accounts, or closed): say how to get in instead. */
  blocked?: "invite" | "closed" | null;
}

export function SignupPage(props: SignupProps) {
  const { ctx, errors, values, invitation } = props;
  const nextQuery = props.next ? `?next=${encodeURIComponent(props.next)}` : "";
  // After signing in, an invitation is accepted on its page under /app (a `next` the login page accepts).
  const loginHref = invitation ? `/login?next=${encodeURIComponent(`/app/invite/${invitation.token}`)}` : `/login${nextQuery}`;
  if (props.blocked) {
    return (
      <AuthLayout ctx={ctx} title="Create an account">
        <h1>{props.blocked === "invite" ? "Accounts are by invitation" : "Sign-up is closed"}</h1>
        <ErrorSummary errors={errors} />
        {props.blocked === "invite" ? (
          <p class="subtitle">
            Sign-up on this Perpetuo needs an invitation. Ask an owner or admin of your team's workspace to invite your email address, then
            open the link they send you.
          </p>
        ) : (
          <p class="subtitle">Sign-up is closed on this Perpetuo. Ask its operator to create your account.</p>
        )}
        <p class="auth-switch">
          Already have an account? <a href={loginHref}>Log in</a>
        </p>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout ctx={ctx} title={invitation ? "Join a workspace" : "Create an account"}>
      {invitation ? (
        <>
          <h1>
            Join <span safe>{invitation.workspace}</span>
          </h1>
          <p class="subtitle">
            You are invited as <strong safe>{invitation.role}</strong>. Create your account for <strong safe>{invitation.email}</strong> to
            join.
          </p>
        </>
      ) : (
        <>
          <h1>Create your account</h1>
          <p class="subtitle">One gateway for every model provider your team uses.</p>
        </>
      )}
      <form method="post" action="/signup" class="stack" novalidate>
        <Csrf token={ctx.csrf} />
        {!!props.next && <input type="hidden" name="next" value={props.next} />}
        {!!invitation && <input type="hidden" name="invitation" value={invitation.token} />}
        <ErrorSummary errors={errors} />
        <TextField name="name" label="Your name" autocomplete="name" value={values.name} errors={errors} maxlength={100} optional />
        <TextField
          name="email"
          label="Email"
          type="email"
          autocomplete="email"
          value={invitation ? invitation.email : values.email}
          hint={invitation ? "The address the invitation was sent to." : undefined}
          errors={errors}
          required
          autofocus={!invitation}
        />
        <TextField
          name="password"
          label="Password"
          type="password"
          autocomplete="new-password"
          hint="At least 10 characters."
          errors={errors}
          minlength={10}
          required
        />
        <Submit label={invitation ? "Create account and join" : "Create account"} />
      </form>
      <p class="auth-switch">
        Already have an account? <a href={loginHref}>Log in</a>
      </p>
    </AuthLayout>
  );
}
