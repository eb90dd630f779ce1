import { createId } from "@paralleldrive/cuid2";
import type { Sql } from "../db/client.ts";

export interface WorkspaceSettings {
  retention_days: number;
  log_content: boolean;
}

export const DEFAULT_SETTINGS: WorkspaceSettings = { retention_days: 30, log_content: false };

export interface Workspace {
  id: string;
  name: string;
  role: "owner" | "admin" | "member";
  settings: WorkspaceSettings;
  created_at: Date;
  updated_at: Date;
}

export interface Membership {
  workspace_id: string;
  role: Workspace["role"];
}

export async function createWorkspace(sql: Sql, userId: string, name: string): Promise<Workspace> {
  const id = createId();
  return sql.begin(async (tx) => {
    const [ws] = await tx<Omit<Workspace, "role">[]>`
      insert into workspaces (id, name, settings) values (${id}, ${name}, ${tx.json({ ...DEFAULT_SETTINGS })})
      returning id, name, settings, created_at, updated_at`;
    await tx`insert into workspace_members (workspace_id, user_id, role) values (${id}, ${userId}, 'owner')`;
    return { ...ws, role: "owner" as const, settings: withDefaults(ws.settings) };
  });
}

export async function listWorkspaces(sql: Sql, userId: string): Promise<Workspace[]> {
  const rows = await sql<Workspace[]>`
    select w.id, w.name, m.role, w.settings, w.created_at, w.updated_at
    from workspace_members m join workspaces w on w.id = m.workspace_id
    where m.user_id = ${userId}
    order by w.created_at, w.id`;
  return rows.map((w) => ({ ...w, settings: withDefaults(w.settings) }));
}

export async function getWorkspace(sql: Sql, id: string, userId: string): Promise<Workspace | null> {
  const [w] = await sql<Workspace[]>`
    select w.id, w.name, m.role, w.settings, w.created_at, w.updated_at
    from workspace_members m join workspaces w on w.id = m.workspace_id
    where m.user_id = ${userId} and w.id = ${id}`;
  return w ? { ...w, settings: withDefaults(w.settings) } : null;
}

export async function getMembership(sql: Sql, workspaceId: string, userId: string): Promise<Membership | null> {
  const [m] = await sql<Membership[]>`
    select workspace_id, role from workspace_members where workspace_id = ${workspaceId} and user_id = ${userId}`;
  return m ?? null;
}

export async function renameWorkspace(sql: Sql, id: string, name: string): Promise<void> {
  await sql`update workspaces set name = ${name}, updated_at = now() where id = ${id}`;
}

export async function getSettings(sql: Sql, id: string): Promise<WorkspaceSettings | null> {
  const [w] = await sql<{ settings: Partial<WorkspaceSettings> | null }[]>`select settings from workspaces where id = ${id}`;
  return w ? withDefaults(w.settings) : null;
}

export async function updateSettings(sql: Sql, id: string, patch: Partial<WorkspaceSettings>): Promise<void> {
  await sql`update workspaces set settings = settings || ${sql.json(patch)}, updated_at = now() where id = ${id}`;
}

function withDefaults(s: Partial<WorkspaceSettings> | null): WorkspaceSettings {
  return { ...DEFAULT_SETTINGS, ...(s ?? {}) };
}
