import type { ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { NavButton } from "../components/ui.tsx";

interface ErrorProps {
  ctx: ViewContext;
  status: number;
  title: string;
  message: string;
  /** An htmx request aimed at a small target (not the page frame): answer with an inline message. */
  inline?: boolean;
}

export function ErrorPage(props: ErrorProps) {
  if (props.inline) {
    return (
      <p class="inline-error" role="alert">
        <strong safe>{props.title}</strong> <span safe>{props.message}</span>
      </p>
    );
  }
  return (
    <Layout ctx={props.ctx} title={props.title}>
      <div class="error-page">
        <p class="error-code">{props.status}</p>
        <h1 safe>{props.title}</h1>
        <p safe>{props.message}</p>
        <p>
          {props.ctx.user ? (
            <NavButton href="/app" label="Go to your workspaces" />
          ) : (
            <a class="btn btn-secondary" href="/login">
              Log in
            </a>
          )}
        </p>
      </div>
    </Layout>
  );
}
