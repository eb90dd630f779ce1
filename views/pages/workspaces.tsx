import type { FormErrors, ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { Csrf, NameField, PostForm, Submit } from "../components/form.tsx";
import { nav } from "../components/hx.ts";
import { Badge, EmptyState, PageHeader, Text, Time } from "../components/ui.tsx";

export function WorkspacesPage(props: {
  ctx: ViewContext;
  workspaces: { id: string; name: string; role: string; created_at: Date }[];
  values: { name?: string };
  errors: FormErrors;
}) {
  const { ctx, errors } = props;
  return (
    <Layout ctx={ctx} title="Workspaces" section="workspaces">
      <PageHeader title="Workspaces" subtitle="A workspace holds provider keys, gateway API keys, request logs and usage." />
      {props.workspaces.length === 0 ? (
        <EmptyState title="You have no workspaces yet">
          <p>Create your first workspace below, then add a provider and mint an API key to start sending requests.</p>
        </EmptyState>
      ) : (
        <ul class="cards" aria-label="Your workspaces">
          {props.workspaces.map((w) => (
            <li class="card card-link">
              <a {...nav(`/app/w/${encodeURIComponent(w.id)}`)}>
                <Text class="card-title" text={w.name} />
                <span class="card-meta">
                  <Badge tone="muted" label={w.role} /> created <Time value={w.created_at} />
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
      <section class="panel" aria-labelledby="new-workspace">
        <h2 id="new-workspace">New workspace</h2>
        <PostForm action="/app/workspaces" csrf={ctx.csrf} errors={errors} class="form-inline">
          <NameField value={props.values.name} errors={errors} placeholder="e.g. Acme production" />
          <Submit label="Create workspace" />
        </PostForm>
      </section>
      <section class="panel" aria-labelledby="account">
        <h2 id="account">Your account</h2>
        <p class="muted">Lost a device or shared a computer? This ends every session of your account, here and on every other device.</p>
        {/* A full page load, not htmx: the session cookie goes away and the sign-in page follows. */}
        <form method="post" action="/logout-all" class="form-inline">
          <Csrf token={ctx.csrf} />
          <Submit label="Sign out everywhere" kind="secondary" />
        </form>
      </section>
    </Layout>
  );
}
