import type { Children } from "@kitajs/html";
import type { ViewContext, WorkspaceRef } from "./context.ts";
import { nav } from "./components/hx.ts";
import { Text } from "./components/ui.tsx";

/** htmx 4 configuration: no injected indicator CSS (our stylesheet has it; CSP allows no inline styles). */
const HTMX_CONFIG = JSON.stringify({ includeIndicatorCSS: false, history: true, mode: "same-origin" });

/**
 * The whole document, or — for an htmx request — only the <title> and the #frame element, which
 * is what every dashboard link and form swaps. One function, two shapes: the HX-Request header
 * (ctx.hx) decides.
 */
export function Layout(props: { ctx: ViewContext; title: string; section?: Section; children?: Children }) {
  const { ctx } = props;
  const w = ctx.workspace;
  const frame = (
    <div id="frame" class={w ? "frame has-nav" : "frame"}>
      <header class="topbar">
        <a class="brand" {...nav("/app")}>
          <Logo /> <span>Perpetuo</span>
        </a>
        {!!ctx.user && <WorkspaceSwitcher workspaces={ctx.workspaces} current={w} />}
        <div class="topbar-end">
          {ctx.user ? (
            <>
              <Text class="user-email" text={ctx.user.email} />
              <form method="post" action="/logout" class="inline-form">
                <input type="hidden" name="_csrf" value={ctx.csrf} />
                <button type="submit" class="btn btn-ghost btn-small">
                  Log out
                </button>
              </form>
            </>
          ) : (
            <a href="/login" class="btn btn-ghost btn-small">
              Log in
            </a>
          )}
        </div>
      </header>
      <div class="shell">
        {!!w && <SideNav workspace={w} section={props.section} />}
        <main id="main" tabindex="-1">
          {props.children}
        </main>
      </div>
    </div>
  );
  const title = `${props.title} · Perpetuo`;
  if (ctx.hx) {
    return (
      <>
        <title safe>{title}</title>
        {frame}
      </>
    );
  }
  return (
    <Document ctx={ctx} title={title} bodyClass="app">
      {frame}
    </Document>
  );
}

/** Sign-in and sign-up pages: a centred card, no navigation. Always a whole document. */
export function AuthLayout(props: { ctx: ViewContext; title: string; children?: Children }) {
  return (
    <Document ctx={props.ctx} title={`${props.title} · Perpetuo`} bodyClass="auth">
      <div id="frame" class="auth-frame">
        <main id="main" class="auth-card" tabindex="-1">
          <p class="brand brand-large">
            <Logo /> Perpetuo
          </p>
          {props.children}
        </main>
      </div>
    </Document>
  );
}

export function Document(props: { ctx: ViewContext; title: string; bodyClass: string; children?: Children }) {
  const { ctx } = props;
  // htmx sends the session's CSRF token as a header on every request it makes; plain forms carry
  // it as the _csrf field. The token is not a secret from the page itself, only from other sites.
  const headers = ctx.user ? JSON.stringify({ "X-CSRF-Token": ctx.csrf }) : undefined;
  return (
    <>
      {"<!doctype html>"}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="light" />
          <meta name="htmx-config" content={HTMX_CONFIG} />
          <title safe>{props.title}</title>
          <link rel="stylesheet" href={ctx.assets.css} />
          <link rel="icon" href="data:," />
          <script src={ctx.assets.htmx} defer></script>
          <script src={ctx.assets.js} defer></script>
        </head>
        <body class={props.bodyClass} hx-headers:inherited={headers}>
          <a class="skip-link" href="#main">
            Skip to content
          </a>
          {props.children}
        </body>
      </html>
    </>
  );
}

export type Section = "workspaces" | "overview" | "providers" | "keys" | "logs" | "health" | "usage" | "members" | "settings";

const SECTIONS: { key: Section; label: string; path: string }[] = [
  { key: "overview", label: "Overview", path: "" },
  { key: "providers", label: "Providers", path: "/providers" },
  { key: "keys", label: "API keys", path: "/keys" },
  { key: "logs", label: "Logs", path: "/logs" },
  { key: "health", label: "Health", path: "/health" },
  { key: "usage", label: "Usage", path: "/usage" },
  { key: "members", label: "Members", path: "/members" },
  { key: "settings", label: "Settings", path: "/settings" },
];

function SideNav(props: { workspace: WorkspaceRef; section?: Section }) {
  const base = `/app/w/${encodeURIComponent(props.workspace.id)}`;
  return (
    <nav class="sidenav" aria-label="Workspace">
      <ul>
        {SECTIONS.map((s) => (
          <li>
            <a {...nav(base + s.path)} aria-current={props.section === s.key ? "page" : undefined} safe>
              {s.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** A disclosure menu (<details>): works without JavaScript; app.js closes it on Escape or outside clicks. */
function WorkspaceSwitcher(props: { workspaces: WorkspaceRef[]; current: WorkspaceRef | null }) {
  const { current } = props;
  return (
    <details class="switcher" data-menu>
      <summary aria-label="Switch workspace">
        <span class="switcher-label">Workspace</span>
        <Text class="switcher-name" text={current?.name ?? "All workspaces"} />
      </summary>
      <div class="switcher-menu">
        <ul>
          {props.workspaces.map((w) => (
            <li>
              <a {...nav(`/app/w/${encodeURIComponent(w.id)}`)} aria-current={current?.id === w.id ? "true" : undefined} safe>
                {w.name}
              </a>
            </li>
          ))}
        </ul>
        <a class="switcher-all" {...nav("/app")}>
          All workspaces · New workspace
        </a>
      </div>
    </details>
  );
}

function Logo() {
  return (
    <svg class="logo" width="20" height="20" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
      <circle cx="10" cy="10" r="8" fill="none" stroke="currentColor" stroke-width="2.5" />
      <path d="M10 4 v6 l4 3" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" />
    </svg>
  );
}
