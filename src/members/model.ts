import * as v from "valibot";
import { InvitationRole } from "../invitations/model.ts";
import { IdParam } from "../workspaces/model.ts";

export const MembersParams = v.object({ id: IdParam });
/** `uid` is a user id; like every id, anything unknown is "not found", never a format error. */
export const MemberParams = v.object({ id: IdParam, uid: IdParam });

export const ChangeRoleBody = v.object({ role: InvitationRole });
export const TransferOwnershipBody = v.object({
  user_id: v.pipe(
    v.string("user_id must be a string"),
    v.trim(),
    v.nonEmpty("user_id must not be empty"),
    v.maxLength(64, "user_id is too long"),
  ),
});
