import type { AppDeps } from "../deps.ts";
import { listing, needs, signedInRoutes } from "../http/routes.ts";
import { AcceptInvitationBody, CreateInvitationBody, InvitationParams, InvitationsParams } from "./model.ts";
import { acceptInvitation, createInvitation, listInvitations, revokeInvitation } from "./service.ts";

/** The one-time link an invitation is used through; PUBLIC_URL so it works from anyone's mail. */
export const invitationLink = (deps: AppDeps, token: string) => `${deps.config.publicUrl}/invite/${token}`;

const SESSION: Record<string, string[]>[] = [{ session: [] }, { sessionCookie: [] }];

/** Invitations to a workspace: owners and admins create, list and revoke; the invited user accepts. */
export function invitationsRoutes(deps: AppDeps) {
  return signedInRoutes(deps)
    .post(
      "/workspaces/:id/invitations",
      async ({ params, body, actor, membership, set }) => {
        const { view, token } = await createInvitation(actor, params.id, membership.role, body);
        set.status = 201;
        // The only time the token is shown.
        return { ...view, token, link: invitationLink(deps, token) };
      },
      needs("admin", InvitationsParams, "Invite someone to the workspace by email (admin; the link is shown once)", {
        body: CreateInvitationBody,
      }),
    )
    .get(
      "/workspaces/:id/invitations",
      listing(deps, listInvitations),
      needs("admin", InvitationsParams, "List the workspace's invitations, newest first (admin)"),
    )
    .delete(
      "/workspaces/:id/invitations/:iid",
      async ({ params, actor, membership, set }) => {
        await revokeInvitation(actor, params.id, params.iid, membership.role);
        set.status = 204;
      },
      needs("admin", InvitationParams, "Revoke an invitation (admin); its link stops working"),
    )
    .post(
      "/invitations/accept",
      async ({ body, session, actor }) => ({ workspace: await acceptInvitation(actor, body.token, session.user.email) }),
      {
        auth: true,
        body: AcceptInvitationBody,
        detail: { summary: "Accept an invitation sent to your address and join its workspace", tags: ["workspaces"], security: SESSION },
      },
    );
}
