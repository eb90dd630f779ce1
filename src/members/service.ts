import type { Sql, TransactionSql } from "../db/client.ts";
import { ApiError, forbidden, invalid, notFound } from "../http/errors.ts";
import { RANK } from "../http/auth.ts";
import type { Membership } from "../workspaces/service.ts";
import { audit, type Actor } from "../events.ts";

export type Role = Membership["role"];

interface MemberView {
  user_id: string;
  email: string;
  name: string | null;
  role: Role;
  joined_at: Date;
}

/** The guard every change runs through: a workspace keeps at least one owner. */
export const lastOwner = (what: string) =>
  new ApiError(409, `${what}: they are the workspace's last owner. Transfer ownership to another member first.`, { code: "last_owner" });

const selectMembers = (sql: Sql | TransactionSql) => sql`
  select m.user_id, u.email, u.name, m.role, m.created_at as joined_at
  from workspace_members m join users u on u.id = m.user_id`;

/** Owners first, then admins, then members; each by when they joined. */
export async function listMembers(sql: Sql, workspaceId: string): Promise<MemberView[]> {
  return sql<MemberView[]>`${selectMembers(sql)}
    where m.workspace_id = ${workspaceId}
    order by case m.role when 'owner' then 0 when 'admin' then 1 else 2 end, m.created_at, m.user_id
    limit 1000`;
}

export async function getMember(sql: Sql | TransactionSql, workspaceId: string, userId: string): Promise<MemberView | null> {
  const [m] = await sql<MemberView[]>`${selectMembers(sql)} where m.workspace_id = ${workspaceId} and m.user_id = ${userId}`;
  return m ?? null;
}

/**
 * Runs a membership change with the workspace row locked, so that changes to one workspace's
 * members happen one at a time: two owners demoting each other at once cannot both pass the
 * last-owner check. Roles are read again inside: the caller's may have changed since the guard.
 */
async function locked<T>(
  sql: Sql,
  workspaceId: string,
  actorId: string,
  work: (tx: TransactionSql, actor: Role, owners: number) => Promise<T>,
): Promise<T> {
  return sql.begin(async (tx) => {
    const [ws] = await tx`select id from workspaces where id = ${workspaceId} for update`;
    if (!ws) throw notFound("workspace");
    const [actor] = await tx<{ role: Role; owners: number }[]>`
      select role, (select count(*)::int from workspace_members where workspace_id = ${workspaceId} and role = 'owner') as owners
      from workspace_members where workspace_id = ${workspaceId} and user_id = ${actorId}`;
    if (!actor) throw notFound("workspace");
    return work(tx, actor.role, actor.owners);
  }) as Promise<T>;
}

async function targetOf(tx: TransactionSql, workspaceId: string, userId: string): Promise<MemberView> {
  const target = await getMember(tx, workspaceId, userId);
  if (!target) throw notFound("member");
  return target;
}

/**
 * Sets a member's role. Owners may set any role on anyone; admins may change members and admins
 * (themselves included) but neither touch an owner nor make one. The last owner keeps the role.
 */
export async function changeRole(actor: Actor, workspaceId: string, userId: string, role: Role): Promise<MemberView> {
  const member = await locked(actor.sql, workspaceId, actor.userId, async (tx, mine, owners) => {
    if (RANK[mine] < RANK.admin) throw forbidden(`this needs the admin role in the workspace; you are ${mine}`);
    const target = await targetOf(tx, workspaceId, userId);
    if (mine !== "owner" && target.role === "owner") throw forbidden("only an owner can change an owner's role");
    if (mine !== "owner" && role === "owner") {
      throw new ApiError(403, "only an owner can make someone an owner", { code: "forbidden", param: "role" });
    }
    if (target.role === role) return target;
    if (target.role === "owner" && owners <= 1) throw lastOwner("this member cannot be demoted");
    await tx`update workspace_members set role = ${role} where workspace_id = ${workspaceId} and user_id = ${userId}`;
    return { ...target, role };
  });
  audit(actor, "member role changed", { workspace_id: workspaceId, member_id: userId, role: member.role });
  return member;
}

/**
 * Removes a member; removing yourself is leaving, which anyone may do. Otherwise admins remove
 * members and admins, owners anyone. Access ends with the commit: membership is read from the
 * database on every request, never cached. Invitations the member sent stay valid (they were
 * sent for the workspace; its admins see and revoke them), and so do gateway keys they created.
 */
export async function removeMember(actor: Actor, workspaceId: string, userId: string): Promise<MemberView> {
  const removed = await locked(actor.sql, workspaceId, actor.userId, async (tx, mine, owners) => {
    const self = actor.userId === userId;
    if (!self && RANK[mine] < RANK.admin) throw forbidden("members can only remove themselves (leave the workspace)");
    const target = await targetOf(tx, workspaceId, userId);
    if (!self && mine !== "owner" && target.role === "owner") throw forbidden("only an owner can remove an owner");
    if (target.role === "owner" && owners <= 1) throw lastOwner(self ? "you cannot leave" : "this member cannot be removed");
    await tx`delete from workspace_members where workspace_id = ${workspaceId} and user_id = ${userId}`;
    return target;
  });
  audit(actor, userId === actor.userId ? "member left" : "member removed", { workspace_id: workspaceId, member_id: userId });
  return removed;
}

/**
 * Hands the workspace to another member in one transaction: they become owner, the caller (an
 * owner) becomes admin. Handing it to someone who is already an owner is stepping down.
 */
export async function transferOwnership(actor: Actor, workspaceId: string, userId: string) {
  const result = await locked(actor.sql, workspaceId, actor.userId, async (tx, mine) => {
    if (mine !== "owner") throw forbidden(`this needs the owner role in the workspace; you are ${mine}`);
    if (userId === actor.userId) throw invalid("user_id must be another member of the workspace: you already own it", "user_id");
    const target = await getMember(tx, workspaceId, userId);
    if (!target) throw invalid("user_id is not a member of this workspace; invite them first", "user_id");
    await tx`update workspace_members set role = 'owner' where workspace_id = ${workspaceId} and user_id = ${userId}`;
    await tx`update workspace_members set role = 'admin' where workspace_id = ${workspaceId} and user_id = ${actor.userId}`;
    const previous = await getMember(tx, workspaceId, actor.userId);
    return { owner: { ...target, role: "owner" as const }, previous_owner: previous! };
  });
  audit(actor, "ownership transferred", { workspace_id: workspaceId, member_id: userId });
  return result;
}
