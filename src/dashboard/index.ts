import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { authPages } from "./auth-routes.tsx";
import { workspacePages } from "./workspace-routes.tsx";
import { staticRoutes } from "./static.ts";
import { providerPages } from "./provider-routes.tsx";
import { keyPages } from "./key-routes.tsx";
import { insightPages } from "./insight-routes.tsx";
import { invitationPages } from "./invitation-routes.tsx";
import { memberPages } from "./member-routes.tsx";
import { startPages } from "./start-routes.tsx";

/**
 * The dashboard: server-rendered pages (views/) that htmx enhances, and /public/*. Each route is
 * thin — parse the form, call the feature's service, render — and every form also works as a plain
 * HTML form (POST → 303, or the page again with errors and 422).
 */
export function dashboardRoutes(deps: AppDeps) {
  const pages = [staticRoutes, authPages, workspacePages, insightPages, providerPages, keyPages, invitationPages, memberPages, startPages];
  return pages.reduce<AnyElysia>((app, routes) => app.use(routes(deps)), new Elysia({ name: "perpetuo:dashboard" }));
}
