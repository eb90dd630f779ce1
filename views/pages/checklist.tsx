import type { Children } from "@kitajs/html";
import { canManage, type ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { nav } from "../components/hx.ts";
import { NavButton, PageHeader } from "../components/ui.tsx";
import { Snippets } from "../components/snippets.tsx";

/** The checklist's facts, read from the workspace (src/workspaces/first-run.ts); nothing here is remembered separately. */
interface ChecklistData {
  providers: number;
  activeKeys: number;
  latest: { id: string; status: number; error_class: string | null } | null;
  answered: { id: string } | null;
  apiBase: string;
  exampleModel: string;
}

export function ChecklistPage(props: { ctx: ViewContext; data: ChecklistData }) {
  const { ctx, data } = props;
  const w = ctx.workspace!;
  const base = `/app/w/${encodeURIComponent(w.id)}`;
  const manage = canManage(w);
  const failedLast = data.latest && !data.answered;
  const steps: { done: boolean; title: string; body: JSX.Element }[] = [
    {
      done: data.providers > 0,
      title: "Add a provider",
      body: (
        <p>
          {data.providers > 0
            ? `${data.providers} provider${data.providers === 1 ? "" : "s"} set up. `
            : "Store the key of an upstream account: OpenAI, Anthropic, Gemini, or any OpenAI-compatible server. "}
          <StepLink href={data.providers > 0 ? `${base}/providers` : `${base}/providers/new`} manage={manage || data.providers > 0}>
            {data.providers > 0 ? "Providers (use Test there to check a key)" : "Add a provider"}
          </StepLink>
        </p>
      ),
    },
    {
      done: data.activeKeys > 0,
      title: "Create an API key",
      body: (
        <p>
          {data.activeKeys > 0
            ? "Your applications can authenticate. "
            : "Your applications authenticate to this gateway with it (prp_…); it is shown once. "}
          <StepLink href={`${base}/keys#new-key-form`} manage={manage || data.activeKeys > 0}>
            {data.activeKeys > 0 ? "API keys" : "Create a key"}
          </StepLink>
        </p>
      ),
    },
    {
      done: data.latest !== null,
      title: "Make a first request",
      body: (
        <>
          <p>Any OpenAI client works: point it at this gateway and give it the key.</p>
          <Snippets apiBase={data.apiBase} model={data.exampleModel} idPrefix="start" />
        </>
      ),
    },
    {
      done: data.answered !== null,
      title: "See it in the logs",
      body: data.answered ? (
        <p>
          Answered. <a {...nav(`${base}/logs/${encodeURIComponent(data.answered.id)}`)}>Open the request</a> to see the conversation, the
          provider that answered and what it cost, or browse <a {...nav(`${base}/logs`)}>all logs</a>.
        </p>
      ) : failedLast ? (
        <p>
          <strong class="text-error" safe>
            {failedText(data.latest!)}
          </strong>{" "}
          <a {...nav(`${base}/logs/${encodeURIComponent(data.latest!.id)}`)}>Open it</a> to see each provider's answer.
        </p>
      ) : (
        <p>
          Every request appears in <a {...nav(`${base}/logs`)}>Logs</a> within a second or two, with the provider that answered, tokens and
          cost.
        </p>
      ),
    },
  ];
  const done = steps.filter((s) => s.done).length;
  return (
    <Layout ctx={ctx} title={`Get started · ${w.name}`} section="overview">
      <PageHeader title="Get started" subtitle={`${done} of ${steps.length} done in ${w.name}.`}>
        <NavButton href={base} label="Overview" />
      </PageHeader>
      {manage && (
        <p class="muted">
          The workspace is called <strong safe>{w.name}</strong>. <a {...nav(`${base}/settings`)}>Rename it in Settings</a>.
        </p>
      )}
      <ol class="checklist" aria-label="Setup steps">
        {steps.map((s, i) => (
          <li class={s.done ? "panel check-step check-done" : "panel check-step"}>
            <h2>
              <span class="step-mark" aria-hidden="true" safe>
                {s.done ? "✓" : String(i + 1)}
              </span>
              <span safe>{s.title}</span>
              <span class="visually-hidden">{s.done ? " (done)" : " (to do)"}</span>
            </h2>
            {/* Markup built above from escaped parts: it must not be escaped again. */}
            <div class="check-body">{s.body as "safe"}</div>
          </li>
        ))}
      </ol>
    </Layout>
  );
}

function failedText(r: { status: number; error_class: string | null }): string {
  return `The last request failed (HTTP ${r.status}${r.error_class ? `, ${r.error_class}` : ""}).`;
}

function StepLink(props: { href: string; manage: boolean; children: Children }) {
  if (!props.manage) return <span class="muted">Ask an owner or admin of this workspace.</span>;
  return <a {...nav(props.href)}>{props.children}</a>;
}
