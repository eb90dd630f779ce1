// What the routes under /workspaces/:id and /app/w/:id would otherwise each spell out again.
import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import type { Actor } from "../events.ts";
import { authPlugin, type Role } from "./auth.ts";
import { notFound, orNotFound } from "./errors.ts";

/** A group of routes under `prefix` that may use the session (`auth`) and `workspace` macros. */
export const signedInRoutes = <const P extends string = "">(deps: AppDeps, prefix?: P) => new Elysia({ prefix }).use(authPlugin(deps));

/**
 * The options of a route under a workspace: the role it needs (see the `workspace` macro), its
 * params schema, its OpenAPI summary, and whatever other hooks it has (body, query).
 */
export function needs<const R extends Role, P, H extends object = {}>(workspace: R, params: P, summary: string, hooks?: H) {
  return { workspace, params, ...(hooks as H), detail: { summary } };
}

type Sql = AppDeps["sql"];

/** A handler that answers with everything of a kind the workspace holds, as `{ data }`. */
export const listing =
  <T>(deps: AppDeps, list: (sql: Sql, workspaceId: string) => Promise<T[]>) =>
  async ({ params }: { params: { id: string } }) => ({ data: await list(deps.sql, params.id) });

/** A handler that answers with the one thing of the workspace that `params[key]` names, or 404 (`what` not found). */
export const finding =
  <K extends string, T>(deps: AppDeps, find: (sql: Sql, workspaceId: string, id: string) => Promise<T | null>, key: K, what: string) =>
  ({ params }: { params: { id: string } & Record<K, string> }) =>
    orNotFound(find(deps.sql, params.id, params[key]), what);

/** A handler that deletes the thing `params[key]` names: 204, or 404 (`what` not found) when there was none. */
export const deleting =
  <K extends string>(remove: (actor: Actor, workspaceId: string, id: string) => Promise<boolean>, key: K, what: string) =>
  async ({ params, actor, set }: { params: { id: string } & Record<K, string>; actor: Actor; set: { status?: number | string } }) => {
    if (!(await remove(actor, params.id, params[key]))) throw notFound(what);
    set.status = 204;
  };
