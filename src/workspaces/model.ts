import * as v from "valibot";
import { WorkspaceLimitsEntries } from "../api-keys/limits.ts";
import { text, wholeNumber } from "../http/fields.ts";

export const WorkspaceName = text(100, "name");

export const WorkspaceBody = v.object({ name: WorkspaceName });

/** Ids are cuid2 strings; anything else can only be "not found", never a validation error that confirms a format. */
export const IdParam = v.pipe(v.string(), v.maxLength(64, "id is too long"));
export const WorkspaceParams = v.object({ id: IdParam });

/**
 * PUT /workspaces/:id/settings: any of the fields; the others keep their value. Limits and the
 * budget: null clears (the budget's amount and period together).
 */
export const SettingsBody = v.object({
  retention_days: v.optional(wholeNumber(1, 3650, "must be a whole number of days from 1 to 3650")),
  log_content: v.optional(v.boolean("must be true or false")),
  ...WorkspaceLimitsEntries,
});

/** The workspace's limits alone (the dashboard's limits form). */
export const LimitsBody = v.object(WorkspaceLimitsEntries);
