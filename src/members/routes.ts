import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { authPlugin } from "../http/auth.ts";
import { ChangeRoleBody, MemberParams, MembersParams, TransferOwnershipBody } from "./model.ts";
import { changeRole, listMembers, removeMember, transferOwnership } from "./service.ts";

/** A workspace's members: everyone lists them; admins and owners change roles and remove; owners hand over. */
export function membersRoutes(deps: AppDeps) {
  return new Elysia({ prefix: "/workspaces/:id" })
    .use(authPlugin(deps))
    .get("/members", async ({ params }) => ({ data: await listMembers(deps.sql, params.id) }), {
      workspace: "member",
      params: MembersParams,
      detail: { summary: "List the workspace's members: user id, email, name, role, joined at" },
    })
    .patch("/members/:uid", async ({ params, body, actor }) => changeRole(actor, params.id, params.uid, body.role), {
      workspace: "admin",
      params: MemberParams,
      body: ChangeRoleBody,
      detail: { summary: "Change a member's role (admin: members and admins only, never to owner; owner: anyone; the last owner stays)" },
    })
    .delete(
      "/members/:uid",
      async ({ params, actor, set }) => {
        await removeMember(actor, params.id, params.uid);
        set.status = 204;
      },
      {
        // Any member may remove themselves (leave); the service checks the rest.
        workspace: "member",
        params: MemberParams,
        detail: { summary: "Remove a member, or yourself to leave (admin; the last owner cannot leave or be removed)" },
      },
    )
    .post("/transfer-ownership", async ({ params, body, actor }) => transferOwnership(actor, params.id, body.user_id), {
      workspace: "owner",
      params: MembersParams,
      body: TransferOwnershipBody,
      detail: { summary: "Make another member the owner; you become admin (owner)" },
    });
}
