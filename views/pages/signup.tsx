import type { FormErrors, ViewContext } from "../context.ts";
import { AuthLayout } from "../layout.tsx";
import { Csrf, ErrorSummary, Submit, TextField } from "../components/form.tsx";

export interface SignupProps {
  ctx: ViewContext;
  values: { email?: string; name?: string };
  next?: string | null;
  errors: FormErrors;
}

export function SignupPage(props: SignupProps) {
  const { ctx, errors, values } = props;
  const nextQuery = props.next ? `?next=${encodeURIComponent(props.next)}` : "";
  return (
    <AuthLayout ctx={ctx} title="Create an account">
      <h1>Create your account</h1>
      <p class="subtitle">One gateway for every model provider your team uses.</p>
      <form method="post" action="/signup" class="stack" novalidate>
        <Csrf token={ctx.csrf} />
        {props.next ? <input type="hidden" name="next" value={props.next} /> : ""}
        <ErrorSummary errors={errors} />
        <TextField name="name" label="Your name" autocomplete="name" value={values.name} errors={errors} maxlength={100} optional />
        <TextField name="email" label="Email" type="email" autocomplete="email" value={values.email} errors={errors} required autofocus />
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
        <Submit label="Create account" />
      </form>
      <p class="auth-switch">
        Already have an account? <a href={`/login${nextQuery}`}>Log in</a>
      </p>
    </AuthLayout>
  );
}
