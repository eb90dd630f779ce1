import { RANK } from "../http/auth.ts";
import type { Role } from "./service.ts";

/** What a viewer may do to one row of the members list; the service enforces the same rules. */
interface MemberActions {
  /** The roles offered in the row's select; null when the role cannot be changed from here. */
  roles: Role[] | null;
  remove: boolean;
  /** Hand the workspace over to this member. */
  transfer: boolean;
  /** The viewer's own row. */
  leave: boolean;
}

const ROLES: Role[] = ["owner", "admin", "member"];

/**
 * Owners act on everyone else; admins on members and admins other than themselves, never up to
 * owner. One's own role changes through leaving or a transfer, so no one demotes themselves by a
 * stray click.
 */
export function memberActions(viewer: { id: string; role: Role }, target: { user_id: string; role: Role }): MemberActions {
  const self = viewer.id === target.user_id;
  const manages = !self && RANK[viewer.role] >= RANK.admin && (viewer.role === "owner" || target.role !== "owner");
  return {
    roles: manages ? ROLES.filter((r) => viewer.role === "owner" || r !== "owner") : null,
    remove: manages,
    transfer: !self && viewer.role === "owner" && target.role !== "owner",
    leave: self,
  };
}
