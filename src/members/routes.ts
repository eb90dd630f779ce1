import type { AppDeps } from "../deps.ts";
import { listing, needs, signedInRoutes } from "../http/routes.ts";
import { ChangeRoleBody, MemberParams, MembersParams, TransferOwnershipBody } from "./model.ts";
import { changeRole, listMembers, removeMember, transferOwnership } from "./service.ts";

/** A workspace's members: everyone lists them; admins and owners change roles and remove; owners hand over. */
export function membersRoutes(deps: AppDeps) {
  return signedInRoutes(deps, "/workspaces/:id")
    .get(
      "/members",
      listing(deps, listMembers),
      needs("member", MembersParams, "List the workspace's members: user id, email, name, role, joined at"),
    )
    .patch(
      "/members/:uid",
      async ({ params, body, actor }) => changeRole(actor, params.id, params.uid, body.role),
      needs(
        "admin",
        MemberParams,
        "Change a member's role (admin: members and admins only, never to owner; owner: anyone; the last owner stays)",
        { body: ChangeRoleBody },
      ),
    )
    .delete(
      "/members/:uid",
      async ({ params, actor, set }) => {
        await removeMember(actor, params.id, params.uid);
        set.status = 204;
      },
      // Any member may remove themselves (leave); the service checks the rest.
      needs("member", MemberParams, "Remove a member, or yourself to leave (admin; the last owner cannot leave or be removed)"),
    )
    .post(
      "/transfer-ownership",
      async ({ params, body, actor }) => transferOwnership(actor, params.id, body.user_id),
      needs("owner", MembersParams, "Make another member the owner; you become admin (owner)", { body: TransferOwnershipBody }),
    );
}
