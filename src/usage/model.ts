import * as v from "valibot";
import { IdParam } from "../workspaces/model.ts";
import { parseInstant, queryParam } from "../logs/model.ts";

export const UsageParams = v.object({ id: IdParam });

const DAY_RULE = "must be an ISO date (2025-01-31); a date-time counts as its UTC day";

/** A UTC day as YYYY-MM-DD; a date-time is taken as the UTC day it falls on. */
const Day = v.pipe(
  v.string(DAY_RULE),
  v.maxLength(40, DAY_RULE),
  v.check((s) => parseInstant(s) !== null, DAY_RULE),
  v.transform((s) => parseInstant(s)!.at.toISOString().slice(0, 10)),
);

/** Both ends inclusive. Defaults: the last 30 days through today (UTC). */
export const UsageQuery = v.object({
  from: queryParam(Day),
  to: queryParam(Day),
});
