import * as v from "valibot";
import { Email, InvitationToken } from "../accounts/model.ts";
import { IdParam } from "../workspaces/model.ts";

export const InvitationRole = v.picklist(["owner", "admin", "member"], "must be one of owner, admin, member");

export const CreateInvitationBody = v.object({ email: Email, role: InvitationRole });
export const AcceptInvitationBody = v.object({ token: InvitationToken });

export const InvitationsParams = v.object({ id: IdParam });
export const InvitationParams = v.object({ id: IdParam, iid: IdParam });
/** The token in an invitation link (`/invite/:token`). */
export const InviteLinkParams = v.object({ token: InvitationToken });

export type CreateInvitationInput = v.InferOutput<typeof CreateInvitationBody>;
