import { redirect } from "elysia";
import * as v from "valibot";
import type { AppDeps } from "../deps.ts";
import type { Actor } from "../events.ts";
import { RANK } from "../http/auth.ts";
import { needs, signedInRoutes } from "../http/routes.ts";
import { ApiError, forbidden, orNotFound, sentence } from "../http/errors.ts";
import { listInvitations } from "../invitations/service.ts";
import { ChangeRoleBody, MemberParams, MembersParams } from "../members/model.ts";
import { memberActions } from "../members/rules.ts";
import { changeRole, getMember, listMembers, removeMember, transferOwnership } from "../members/service.ts";
import type { Membership } from "../workspaces/service.ts";
import type { InvitationsProps } from "../../views/components/invitations.tsx";
import { canManage } from "../../views/context.ts";
import { MembersPage, type MembersProps } from "../../views/pages/members.tsx";
import { attempt, errorsFor, formBody, noticeFor, text } from "./forms.ts";
import { html } from "./render.ts";
import { confirmPage, pageContext, workspacePath, type PageBits } from "./context.tsx";

type InvitationsOptions = Partial<Pick<InvitationsProps, "created" | "values" | "errors" | "notice">>;

const NOTICES: Record<string, string> = {
  role: "Role changed.",
  removed: "Member removed: their access ended at once.",
  transferred: "Ownership transferred: you are an admin of this workspace now.",
};

/**
 * The members page, with the invitations panel for owners and admins; the member and invitation
 * forms answer with it too (inline errors, or the link shown once).
 */
export async function membersPage(
  deps: AppDeps,
  c: PageBits,
  id: string,
  opts: { notice?: string | null; error?: MembersProps["error"]; invitations?: InvitationsOptions; status?: number } = {},
) {
  const ctx = await pageContext(deps, c, id);
  const w = ctx.workspace!;
  const viewer = { id: c.session.user.id, role: w.role };
  const members = await listMembers(deps.sql, id);
  const invitations: InvitationsProps | null = canManage(w)
    ? {
        workspaceId: id,
        csrf: ctx.csrf,
        pending: await listInvitations(deps.sql, id, { pending: true }),
        roles: (["member", "admin", "owner"] as const).filter((r) => RANK[r] <= RANK[w.role]),
        values: {},
        errors: errorsFor({}),
        ...opts.invitations,
      }
    : null;
  const view = (
    <MembersPage
      ctx={ctx}
      members={members.map((m) => ({ ...m, actions: memberActions(viewer, m) }))}
      notice={opts.notice}
      error={opts.error}
      invitations={invitations}
      lastOwner={w.role === "owner" && members.filter((m) => m.role === "owner").length === 1}
    />
  );
  return html(c.set, view, opts.status ?? 200);
}

/** /app/w/:id/members… and /app/w/:id/leave — the dashboard face of src/members. */
export function memberPages(deps: AppDeps) {
  /**
   * Runs a change to member `uid` (the viewer when the path names nobody) and goes back to the list
   * with `done`'s notice, or to /app when the viewer removed themselves. Refusals a person can act on
   * (403, 409, 422) come back on the page, beside that member's row; anything else (404) is the error page.
   */
  async function change(
    c: PageBits & { params: { id: string; uid?: string }; actor: Actor },
    work: (actor: Actor, id: string, uid: string) => Promise<unknown>,
    done: string,
  ) {
    const { id, uid = c.session.user.id } = c.params;
    const refused = await attempt(
      () => work(c.actor, id, uid),
      (err) => [403, 409, 422].includes(err.status),
    );
    if (refused instanceof ApiError) {
      const error = { message: sentence(refused.message), user_id: c.params.uid ?? null };
      return membersPage(deps, c, id, { error, status: refused.status });
    }
    const left = work === removeMember && uid === c.session.user.id;
    return redirect(left ? "/app" : workspacePath(id, `/members?done=${done}`), 303);
  }

  async function confirm(
    c: PageBits & { params: { id: string; uid?: string }; membership: Membership },
    kind: "remove" | "transfer" | "leave",
  ) {
    const id = c.params.id;
    const uid = c.params.uid ?? c.session.user.id;
    const member = await orNotFound(getMember(deps.sql, id, uid), "member");
    const self = uid === c.session.user.id;
    // No confirmation for what the change itself would refuse (an admin removing an owner, a hand-over to an owner).
    const allowed = memberActions({ id: c.session.user.id, role: c.membership.role }, member);
    if ((kind === "remove" && !self && !allowed.remove) || (kind === "transfer" && !allowed.transfer)) {
      throw forbidden(kind === "remove" ? "only an owner can remove an owner" : "ownership goes to a member who is not an owner yet");
    }
    const texts = {
      remove: self
        ? { title: "Leave this workspace?", message: "You lose access to it at once.", confirmLabel: "Leave workspace" }
        : {
            title: `Remove ${member.email}?`,
            message:
              "Their access to this workspace ends at once. Invitations they sent and gateway keys they created keep working; revoke them here if needed.",
            confirmLabel: "Remove member",
          },
      transfer: {
        title: `Make ${member.email} the owner?`,
        message: "They become an owner of this workspace and you become an admin. Only an owner can give ownership back.",
        confirmLabel: "Transfer ownership",
      },
      leave: {
        title: "Leave this workspace?",
        message: "You lose access to it at once: its providers, keys, logs and usage. An owner or admin can invite you again.",
        confirmLabel: "Leave workspace",
      },
    }[kind];
    return confirmPage(deps, c, id, "members", { ...texts, danger: kind !== "transfer" });
  }

  return signedInRoutes(deps, "/app/w/:id")
    .get(
      "/members",
      (c) => {
        const notice = noticeFor(NOTICES, c.query.done);
        const invite = c.query.invite === "revoked" ? "Invitation revoked: its link no longer works." : null;
        return membersPage(deps, c, c.params.id, { notice, invitations: { notice: invite } });
      },
      needs("member", MembersParams, "Members page: the member list, roles, invitations"),
    )
    .post(
      "/members/:uid/role",
      (c) => {
        const { id, uid } = c.params;
        const parsed = v.safeParse(ChangeRoleBody, { role: text(formBody(c.body), "role") });
        if (!parsed.success)
          return membersPage(deps, c, id, { error: { message: "Pick a role: owner, admin or member.", user_id: uid }, status: 422 });
        return change(c, (actor) => changeRole(actor, id, uid, parsed.output.role), "role");
      },
      needs("admin", MemberParams, "Change a member's role (form)"),
    )
    .get("/members/:uid/remove", (c) => confirm(c, "remove"), needs("admin", MemberParams, "Confirm removing a member"))
    .post("/members/:uid/remove", (c) => change(c, removeMember, "removed"), needs("admin", MemberParams, "Remove a member (form)"))
    .get(
      "/members/:uid/transfer",
      (c) => confirm(c, "transfer"),
      needs("owner", MemberParams, "Confirm transferring ownership to a member"),
    )
    .post(
      "/members/:uid/transfer",
      (c) => change(c, transferOwnership, "transferred"),
      needs("owner", MemberParams, "Transfer ownership to a member (form); you become admin"),
    )
    .get("/leave", (c) => confirm(c, "leave"), needs("member", MembersParams, "Confirm leaving the workspace"))
    .post("/leave", (c) => change(c, removeMember, "left"), needs("member", MembersParams, "Leave the workspace (form)"));
}
