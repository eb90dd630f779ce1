import { createId } from "@paralleldrive/cuid2";
import type { Sql, TransactionSql } from "../db/client.ts";
import { randomBase62, sha256Hex } from "../crypto.ts";
import { ApiError, conflict, notFound } from "../http/errors.ts";
import { RANK } from "../http/auth.ts";
import type { Role } from "../members/service.ts";
import type { CreateInvitationInput } from "./model.ts";
import { audit, type Actor } from "../events.ts";

const INVITATION_TTL_MS = 7 * 24 * 3600_000;

type InvitationStatus = "pending" | "accepted" | "revoked" | "expired";

interface InvitationView {
  id: string;
  email: string;
  role: Role;
  status: InvitationStatus;
  created_at: Date;
  expires_at: Date;
  invited_by: { id: string; email: string } | null;
  accepted_at: Date | null;
  revoked_at: Date | null;
}

/** What the invitation page shows to whoever holds the link. */
interface InvitationDetails {
  email: string;
  role: Role;
  status: InvitationStatus;
  workspace: { id: string; name: string };
}

interface Row extends Omit<InvitationView, "status" | "invited_by"> {
  invited_by: string | null;
  invited_by_email: string | null;
}

/** What decides an invitation's status. */
type Dates = Pick<Row, "accepted_at" | "revoked_at" | "expires_at">;

// Only the hash is stored: a copy of the table cannot be turned into working links.
const hashToken = (token: string) => sha256Hex(token.trim());

function statusOf(r: Dates, now = new Date()): InvitationStatus {
  if (r.accepted_at) return "accepted";
  if (r.revoked_at) return "revoked";
  if (r.expires_at.getTime() <= now.getTime()) return "expired";
  return "pending";
}

function toView(r: Row): InvitationView {
  const { invited_by, invited_by_email, ...columns } = r;
  return {
    ...columns,
    status: statusOf(r),
    invited_by: invited_by && invited_by_email ? { id: invited_by, email: invited_by_email } : null,
  };
}

/** Why a token cannot be used: one clear answer per case, for the link's holder. */
const PROBLEMS: Record<Exclude<InvitationStatus, "pending"> | "unknown" | "other_email", [number, string, string]> = {
  accepted: [410, "invitation_used", "this invitation has already been used"],
  revoked: [410, "invitation_revoked", "this invitation was revoked; ask the workspace's admin for a new one"],
  expired: [410, "invitation_expired", "this invitation has expired; ask the workspace's admin for a new one"],
  other_email: [403, "invitation_email_mismatch", "this invitation was sent to another email address; use the address it was sent to"],
  unknown: [404, "invitation_not_found", "this invitation link is not valid; check that it was copied whole"],
};

export function invitationProblem(status: InvitationStatus | "unknown" | "other_email"): ApiError {
  const [httpStatus, code, message] = PROBLEMS[status === "pending" ? "unknown" : status];
  return new ApiError(httpStatus, message, { code });
}

/** Nobody hands out, or takes back, a role above their own. */
const aboveYours = (message: string, param: string | null = null) => new ApiError(403, message, { code: "role_above_yours", param });

/**
 * A new invitation and its token (shown once, in the link). Nobody invites above their own role,
 * and inviting an address again replaces its pending invitation, whose link stops working.
 */
export async function createInvitation(
  actor: Actor,
  workspaceId: string,
  inviterRole: Role,
  input: CreateInvitationInput,
): Promise<{ view: InvitationView; token: string }> {
  const { sql } = actor;
  if (RANK[input.role] > RANK[inviterRole])
    throw aboveYours(`a workspace ${inviterRole} cannot invite with the ${input.role} role`, "role");
  const [member] = await sql`
    select 1 from workspace_members m join users u on u.id = m.user_id
    where m.workspace_id = ${workspaceId} and lower(u.email) = lower(${input.email})`;
  if (member) throw conflict("this address already belongs to a member of the workspace", "email");
  const token = randomBase62(32);
  const id = createId();
  const expires = new Date(Date.now() + INVITATION_TTL_MS);
  await sql.begin(async (tx) => {
    await tx`
      update invitations set revoked_at = now()
      where workspace_id = ${workspaceId} and lower(email) = lower(${input.email}) and accepted_at is null and revoked_at is null`;
    await tx`
      insert into invitations (id, workspace_id, email, role, token_hash, invited_by, expires_at)
      values (${id}, ${workspaceId}, ${input.email}, ${input.role}, ${hashToken(token)}, ${actor.userId}, ${expires})`;
  });
  audit(actor, "invitation created", { workspace_id: workspaceId, invitation_id: id, role: input.role });
  return { view: (await getInvitation(sql, workspaceId, id))!, token };
}

const selectInvitations = (sql: Sql) => sql`
  select i.id, i.email, i.role, i.created_at, i.expires_at, i.invited_by, u.email as invited_by_email, i.accepted_at, i.revoked_at
  from invitations i left join users u on u.id = i.invited_by`;

async function getInvitation(sql: Sql, workspaceId: string, id: string): Promise<InvitationView | null> {
  const [row] = await sql<Row[]>`${selectInvitations(sql)} where i.workspace_id = ${workspaceId} and i.id = ${id}`;
  return row ? toView(row) : null;
}

/** Newest first; `pending` leaves out used, revoked and expired ones. At most 200. */
export async function listInvitations(sql: Sql, workspaceId: string, opts: { pending?: boolean } = {}): Promise<InvitationView[]> {
  const pending = opts.pending ? sql`and i.accepted_at is null and i.revoked_at is null and i.expires_at > now()` : sql``;
  const rows = await sql<Row[]>`${selectInvitations(sql)} where i.workspace_id = ${workspaceId} ${pending}
    order by i.created_at desc, i.id limit 200`;
  return rows.map(toView);
}

/** Revokes a pending invitation; revoking twice is harmless. A used one cannot be revoked (the member is in). */
export async function revokeInvitation(actor: Actor, workspaceId: string, id: string, revokerRole: Role): Promise<InvitationView> {
  const { sql } = actor;
  const current = await getInvitation(sql, workspaceId, id);
  if (!current) throw notFound("invitation");
  if (RANK[current.role] > RANK[revokerRole]) {
    throw aboveYours(`a workspace ${revokerRole} cannot revoke an invitation with the ${current.role} role`);
  }
  if (current.status === "accepted") throw conflict("this invitation has already been used; it cannot be revoked");
  await sql`update invitations set revoked_at = coalesce(revoked_at, now()) where workspace_id = ${workspaceId} and id = ${id}`;
  audit(actor, "invitation revoked", { workspace_id: workspaceId, invitation_id: id });
  return (await getInvitation(sql, workspaceId, id))!;
}

/** The invitation behind a link, whatever its state; null for a token that was never issued. */
export async function findInvitation(sql: Sql, token: string): Promise<InvitationDetails | null> {
  const [row] = await sql<(InvitationDetails["workspace"] & Dates & { email: string; role: Role })[]>`
    select w.id, w.name, i.email, i.role, i.accepted_at, i.revoked_at, i.expires_at
    from invitations i join workspaces w on w.id = i.workspace_id
    where i.token_hash = ${hashToken(token)}`;
  if (!row) return null;
  return { email: row.email, role: row.role, status: statusOf(row), workspace: { id: row.id, name: row.name } };
}

/**
 * Marks the invitation used by `email`, inside the caller's transaction, so that of two concurrent
 * uses exactly one wins and a failure later in the transaction (the account cannot be created)
 * leaves it unused. Throws the precise reason when it cannot be used.
 */
export async function claimInvitation(
  tx: TransactionSql,
  token: string,
  email: string,
  userId: string | null,
): Promise<{ id: string; workspace_id: string; role: Role }> {
  const hash = hashToken(token);
  const [claimed] = await tx<{ id: string; workspace_id: string; role: Role }[]>`
    update invitations set accepted_at = now(), accepted_by = ${userId}
    where token_hash = ${hash} and accepted_at is null and revoked_at is null and expires_at > now()
      and lower(email) = lower(${email})
    returning id, workspace_id, role`;
  if (claimed) return claimed;
  const [row] = await tx<Dates[]>`
    select accepted_at, revoked_at, expires_at from invitations where token_hash = ${hash}`;
  if (!row) throw invitationProblem("unknown");
  const status = statusOf(row);
  throw invitationProblem(status === "pending" ? "other_email" : status);
}

/** Adds the member; someone already in the workspace keeps the role they have. */
export async function joinWorkspace(
  tx: TransactionSql,
  workspaceId: string,
  userId: string,
  role: Role,
): Promise<{ id: string; name: string; role: Role }> {
  await tx`insert into workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${userId}, ${role}) on conflict do nothing`;
  const [ws] = await tx<{ id: string; name: string; role: Role }[]>`
    select w.id, w.name, m.role from workspaces w join workspace_members m on m.workspace_id = w.id
    where w.id = ${workspaceId} and m.user_id = ${userId}`;
  return ws;
}

/** A signed-in user accepts an invitation sent to their address and joins its workspace. */
export async function acceptInvitation(actor: Actor, token: string, email: string) {
  const workspace = await actor.sql.begin(async (tx) => {
    const inv = await claimInvitation(tx, token, email, actor.userId);
    return joinWorkspace(tx, inv.workspace_id, actor.userId, inv.role);
  });
  audit(actor, "invitation accepted", { workspace_id: workspace.id });
  return workspace;
}
