import { createId } from "@paralleldrive/cuid2";
import type { Sql } from "../db/client.ts";
import { audit, type Actor } from "../events.ts";
import type { LimitsPatch } from "../api-keys/limits.ts";
import { updateWorkspaceLimits } from "./limits.ts";

interface WorkspaceSettings {
  retention_days: number;
  log_content: boolean;
}

const DEFAULT_SETTINGS: WorkspaceSettings = { retention_days: 30, log_content: false };

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

/** A new workspace with its creator as owner. */
export async function createWorkspace(actor: Actor, name: string): Promise<Workspace> {
  const id = createId();
  const created = await actor.sql.begin(async (tx) => {
    const [ws] = await tx<Omit<Workspace, "role">[]>`
      insert into workspaces (id, name, settings) values (${id}, ${name}, ${tx.json({ ...DEFAULT_SETTINGS })})
      returning id, name, settings, created_at, updated_at`;
    await tx`insert into workspace_members (workspace_id, user_id, role) values (${id}, ${actor.userId}, 'owner')`;
    return { ...ws, role: "owner" as const, settings: withDefaults(ws.settings) };
  });
  audit(actor, "workspace created", { workspace_id: id });
  return created;
}

/** The workspaces `userId` is a member of, with their role in each. */
const selectMine = (sql: Sql, userId: string) => sql`
  select w.id, w.name, m.role, w.settings, w.created_at, w.updated_at
  from workspace_members m join workspaces w on w.id = m.workspace_id
  where m.user_id = ${userId}`;

export async function listWorkspaces(sql: Sql, userId: string): Promise<Workspace[]> {
  const rows = await sql<Workspace[]>`${selectMine(sql, userId)} order by w.created_at, w.id`;
  return rows.map((w) => ({ ...w, settings: withDefaults(w.settings) }));
}

export async function getWorkspace(sql: Sql, id: string, userId: string): Promise<Workspace | null> {
  const [w] = await sql<Workspace[]>`${selectMine(sql, userId)} and w.id = ${id}`;
  return w ? { ...w, settings: withDefaults(w.settings) } : null;
}

export async function getMembership(sql: Sql, workspaceId: string, userId: string): Promise<Membership | null> {
  const [m] = await sql<Membership[]>`
    select workspace_id, role from workspace_members where workspace_id = ${workspaceId} and user_id = ${userId}`;
  return m ?? null;
}

export async function renameWorkspace(actor: Actor, id: string, name: string): Promise<void> {
  await actor.sql`update workspaces set name = ${name}, updated_at = now() where id = ${id}`;
  audit(actor, "workspace renamed", { workspace_id: id });
}

export async function getSettings(sql: Sql, id: string): Promise<WorkspaceSettings | null> {
  const [w] = await sql<{ settings: Partial<WorkspaceSettings> | null }[]>`select settings from workspaces where id = ${id}`;
  return w ? withDefaults(w.settings) : null;
}

/**
 * Changes the log settings and the limits (absent: unchanged; half a budget is refused, 422, before anything is
 * stored). The gateway caches log_content and the limits per workspace, so a real change is announced at once;
 * retention is read by the hourly job. False when the workspace does not exist.
 */
export async function updateSettings(actor: Actor, id: string, patch: Partial<WorkspaceSettings> & LimitsPatch): Promise<boolean> {
  const { sql } = actor;
  const before = await getSettings(sql, id);
  if (!before) return false;
  const { retention_days, log_content, ...limits } = patch;
  const settings = { ...(retention_days !== undefined && { retention_days }), ...(log_content !== undefined && { log_content }) };
  const limitsChanged = await updateWorkspaceLimits(sql, id, limits);
  const changed = Object.entries(settings).some(([k, val]) => before[k as keyof WorkspaceSettings] !== val);
  if (changed) await sql`update workspaces set settings = settings || ${sql.json(settings)}, updated_at = now() where id = ${id}`;
  if (changed || limitsChanged) actor.events.emit({ type: "workspace", workspace_id: id });
  const fields = Object.keys(patch).filter((k) => patch[k as keyof typeof patch] !== undefined);
  audit(actor, "workspace settings updated", { workspace_id: id, fields: fields.join(",") });
  return true;
}

function withDefaults(s: Partial<WorkspaceSettings> | null): WorkspaceSettings {
  return { ...DEFAULT_SETTINGS, ...(s ?? {}) };
}
