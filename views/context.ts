/**
 * Plain data every dashboard view receives. Routes build it; views never reach for the request,
 * the database or the configuration themselves.
 */
export interface WorkspaceRef {
  id: string;
  name: string;
  role: "owner" | "admin" | "member";
}

export interface ViewContext {
  /** Render the htmx fragment (the #frame element and a <title>) instead of the whole document. */
  hx: boolean;
  /** The signed-in user, or null on the sign-in pages and error pages without a session. */
  user: { email: string; name: string | null } | null;
  /** The CSRF token for this session (or the pre-session token on sign-in pages). */
  csrf: string;
  /** Current path and query, for active navigation and `next` links. */
  path: string;
  workspaces: WorkspaceRef[];
  /** The workspace the page belongs to, if any. */
  workspace: WorkspaceRef | null;
  assets: { css: string; htmx: string; js: string };
}

/** Field-level validation messages keyed by form field name, plus one message for the whole form. */
export interface FormErrors {
  fields: Record<string, string>;
  form?: string;
}

export const canManage = (w: WorkspaceRef | null): boolean => w !== null && (w.role === "owner" || w.role === "admin");
