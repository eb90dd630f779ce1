import type { Sql } from "../db/client.ts";

/** Where a workspace stands on the way to its first answered request: what the checklist ticks. */
interface FirstRunState {
  providers: number;
  /** Keys that still work (not revoked, not expired). */
  activeKeys: number;
  /** The newest request, if any was made. */
  latest: { id: string; status: number; error_class: string | null } | null;
  /** The newest request that was answered. */
  answered: { id: string } | null;
}

/** Four small reads over indexed columns; the checklist is read on every visit and must stay cheap. */
export async function firstRunState(sql: Sql, workspaceId: string): Promise<FirstRunState> {
  const [[counts], [latest], [answered]] = await Promise.all([
    sql<{ providers: number; keys: number }[]>`
      select (select count(*)::int from provider_keys where workspace_id = ${workspaceId}) as providers,
             (select count(*)::int from api_keys where workspace_id = ${workspaceId}
                and revoked_at is null and (expires_at is null or expires_at > now())) as keys`,
    sql<{ id: string; status: number; error_class: string | null }[]>`
      select id, status, error_class from request_logs where workspace_id = ${workspaceId} order by created_at desc, id desc limit 1`,
    sql<{ id: string }[]>`
      select id from request_logs where workspace_id = ${workspaceId} and status < 400 and error_class is null
      order by created_at desc, id desc limit 1`,
  ]);
  return { providers: counts.providers, activeKeys: counts.keys, latest: latest ?? null, answered: answered ?? null };
}

/** The name of the workspace sign-up creates: the person's, when they gave one. */
export function firstWorkspaceName(userName: string | null | undefined): string {
  const name = (userName ?? "").trim();
  // Workspace names are at most 100 characters; "'s workspace" takes 12 of them.
  return name ? `${name.length > 80 ? `${name.slice(0, 80)}…` : name}'s workspace` : "My workspace";
}
