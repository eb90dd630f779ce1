import * as v from "valibot";
import type { AppDeps } from "../deps.ts";
import { needs, signedInRoutes } from "../http/routes.ts";
import { ApiError, sentence } from "../http/errors.ts";
import { CreateInvitationBody, InvitationParams, InvitationsParams, InviteLinkParams } from "../invitations/model.ts";
import { acceptInvitation, createInvitation, findInvitation, invitationProblem, revokeInvitation } from "../invitations/service.ts";
import { invitationLink } from "../invitations/routes.ts";
import { WorkspaceParams } from "../workspaces/model.ts";
import { ErrorPage } from "../../views/pages/error.tsx";
import { InvitePage } from "../../views/pages/invite.tsx";
import { SignupPage } from "../../views/pages/signup.tsx";
import { attempt, errorsFor, formBody, issuesToErrors, text } from "./forms.ts";
import { html } from "./render.ts";
import { guestContext, pageContext, toWorkspace } from "./context.tsx";
import { signedIn } from "./session.ts";
import { membersPage } from "./member-routes.tsx";

/**
 * Invitations in the dashboard: the members page's panel (create, revoke) and the link's pages.
 * `/invite/:token` is for anyone holding the link (sign up there); `/app/invite/:token` is the
 * signed-in side (join), where the login page's `next` can lead.
 */
export function invitationPages(deps: AppDeps) {
  return signedInRoutes(deps)
    .get(
      "/app/w/:id/invitations",
      ({ params }) => toWorkspace(params.id, "/members#invitations"),
      needs("member", WorkspaceParams, "The invitations list (on the members page)"),
    )
    .post(
      "/app/w/:id/invitations",
      async (c) => {
        const { params, body, actor, membership, set } = c;
        const form = formBody(body);
        const values = { email: text(form, "email"), role: text(form, "role") };
        const parsed = v.safeParse(CreateInvitationBody, values);
        if (!parsed.success)
          return membersPage(deps, c, params.id, { invitations: { values, errors: issuesToErrors(parsed.issues) }, status: 422 });
        const created = await attempt(
          () => createInvitation(actor, params.id, membership.role, parsed.output),
          (err) => !!err.param,
        );
        if (created instanceof ApiError)
          return membersPage(deps, c, params.id, { invitations: { values, errors: created.formErrors() }, status: created.status });
        // No redirect: the link is in this one response and nowhere else (no-store, never in a URL).
        set.headers["cache-control"] = "no-store";
        const link = invitationLink(deps, created.token);
        return membersPage(deps, c, params.id, { invitations: { created: { email: created.view.email, link } }, status: 201 });
      },
      needs("admin", InvitationsParams, "Invite someone to the workspace (form)"),
    )
    .post(
      "/app/w/:id/invitations/:iid/revoke",
      async ({ params, actor, membership }) => {
        await revokeInvitation(actor, params.id, params.iid, membership.role);
        return toWorkspace(params.id, "/members?invite=revoked");
      },
      needs("admin", InvitationParams, "Revoke an invitation (form)"),
    )
    .get(
      "/invite/:token",
      async (c) => {
        const { params, set } = c;
        // Signed in (with a session that has not been ended): the page that joins the workspace.
        if (await signedIn(c)) return c.redirect(`/app/invite/${encodeURIComponent(params.token)}`, 303);
        const ctx = guestContext(deps, c);
        const inv = await findInvitation(deps.sql, params.token);
        if (!inv || inv.status !== "pending") {
          const problem = invitationProblem(inv?.status ?? "unknown");
          return html(
            set,
            <ErrorPage ctx={ctx} status={problem.status} title="This invitation cannot be used" message={sentence(problem.message)} />,
            problem.status,
          );
        }
        const invitation = { token: params.token, email: inv.email, role: inv.role, workspace: inv.workspace.name };
        const blocked = deps.config.signup === "closed" ? "closed" : null;
        return html(set, <SignupPage ctx={ctx} values={{}} errors={errorsFor({})} invitation={invitation} blocked={blocked} />);
      },
      { params: InviteLinkParams, detail: { summary: "Invitation link: sign-up page, or the join page when signed in" } },
    )
    .get(
      "/app/invite/:token",
      async ({ params, session, headers, request, set }) => {
        const ctx = await pageContext(deps, { session, headers, request });
        const inv = await findInvitation(deps.sql, params.token);
        if (!inv || inv.status !== "pending") throw invitationProblem(inv?.status ?? "unknown");
        if (inv.email.toLowerCase() !== session.user.email.toLowerCase()) {
          const message = `This invitation was sent to ${inv.email}, and you are signed in as ${session.user.email}. Log out, then open the link again and sign in or sign up with ${inv.email}.`;
          return html(set, <ErrorPage ctx={ctx} status={403} title="This invitation is for another address" message={message} />, 403);
        }
        return html(set, <InvitePage ctx={ctx} token={params.token} invitation={inv} />);
      },
      { auth: true, params: InviteLinkParams, detail: { summary: "Join a workspace by invitation: confirmation page" } },
    )
    .post(
      "/app/invite/:token",
      async ({ params, session, actor }) => {
        const ws = await acceptInvitation(actor, params.token, session.user.email);
        return toWorkspace(ws.id);
      },
      { auth: true, params: InviteLinkParams, detail: { summary: "Join a workspace by invitation (form)" } },
    );
}
