// What the routes under /workspaces/:id and /app/w/:id would otherwise each spell out again.
import type { AppDeps } from "../deps.ts";
import { Elysia } from "elysia";
import { authPlugin, type Role } from "./auth.ts";

/**
 * The options of a route under a workspace: the role it needs (see the `workspace` macro), its
 * params schema, its OpenAPI summary, and whatever other hooks it has (body, query).
 */
export function needs<const R extends Role, P, H extends object = {}>(workspace: R, params: P, summary: string, hooks?: H) {
  return { workspace, params, ...(hooks as H), detail: { summary } };
}

/** A handler that answers with everything of a kind the workspace holds, as `{ data }`. */
export const listing =
  <T>(deps: AppDeps, list: (sql: AppDeps["sql"], workspaceId: string) => Promise<T[]>) =>
  async ({ params }: { params: { id: string } }) => ({ data: await list(deps.sql, params.id) });

/** A group of routes under `prefix` that may use the session (`auth`) and `workspace` macros. */
export const signedInRoutes = <const P extends string = "">(deps: AppDeps, prefix?: P) => new Elysia({ prefix }).use(authPlugin(deps));
