import * as v from "valibot";
import { text } from "../http/fields.ts";
import { IdParam } from "../workspaces/model.ts";
import { KeyLimitsEntries } from "./limits.ts";

const ApiKeyName = text(100);

const ISO_MESSAGE = "must be an ISO 8601 timestamp such as 2030-01-31T00:00:00Z";

/** Date.parse rolls 2030-02-31 over into March; a calendar date that does not exist is an error. */
function realCalendarDate(s: string): boolean {
  const [y, m, d] = s.slice(0, 10).split("-").map(Number);
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

const ExpiresAt = v.pipe(
  v.string(ISO_MESSAGE),
  v.isoTimestamp(ISO_MESSAGE),
  v.check(realCalendarDate, ISO_MESSAGE),
  v.transform((s) => new Date(s)),
  v.check((d) => !Number.isNaN(d.getTime()), ISO_MESSAGE),
  v.check((d) => d.getTime() > Date.now(), "must be in the future"),
);

export const CreateApiKeyBody = v.object({
  name: ApiKeyName,
  /** Absent or null: the key never expires. */
  expires_at: v.optional(v.nullable(ExpiresAt)),
  /** Limits, budget (both fields or neither), allow-list and tags; absent or null = none. */
  ...KeyLimitsEntries,
});

/** PATCH: only what is given changes; null clears a limit, the budget, the allow-list or the tags. */
export const UpdateApiKeyBody = v.object({ name: v.optional(ApiKeyName), ...KeyLimitsEntries });

export const ApiKeysParams = v.object({ id: IdParam });
export const ApiKeyParams = v.object({ id: IdParam, kid: IdParam });

export type CreateApiKeyInput = v.InferOutput<typeof CreateApiKeyBody>;
export type UpdateApiKeyInput = v.InferOutput<typeof UpdateApiKeyBody>;
