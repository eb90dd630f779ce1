import type { ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { Csrf, Submit } from "../components/form.tsx";
import { PageHeader } from "../components/ui.tsx";

/** A signed-in user's view of an invitation to their address: one button to join. */
export function InvitePage(props: {
  ctx: ViewContext;
  token: string;
  invitation: { email: string; role: string; workspace: { name: string } };
}) {
  const { ctx, invitation } = props;
  return (
    <Layout ctx={ctx} title={`Join ${invitation.workspace.name}`}>
      <PageHeader title={`Join ${invitation.workspace.name}`} subtitle={`You are invited as ${invitation.role}.`} />
      <form method="post" action={`/app/invite/${encodeURIComponent(props.token)}`} class="panel stack">
        <Csrf token={ctx.csrf} />
        <p>
          The invitation was sent to <strong safe>{invitation.email}</strong>, the address you are signed in with.
        </p>
        <Submit label="Join workspace" />
      </form>
    </Layout>
  );
}
