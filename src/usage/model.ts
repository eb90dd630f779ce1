import * as v from "valibot";
import { IdParam } from "../workspaces/model.ts";
import { instant, queryParam } from "../logs/model.ts";
import { isoDay } from "./service.ts";

export const UsageParams = v.object({ id: IdParam });

/** A UTC day as YYYY-MM-DD; a date-time is taken as the UTC day it falls on. */
const Day = instant("must be an ISO date (2025-01-31); a date-time counts as its UTC day", (p) => isoDay(p.at.getTime()));

/** Both ends inclusive. Defaults: the last 30 days through today (UTC). */
export const UsageQuery = v.object({
  from: queryParam(Day),
  to: queryParam(Day),
});
