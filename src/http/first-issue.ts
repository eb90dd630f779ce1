import * as v from "valibot";

/**
 * The schema as Elysia sees it (Standard Schema), stopping at the first issue. Outside production,
 * Elysia's ValidationError pretty-prints every issue with the inputs along its path: a 128 KB /v1
 * body with one bad part in each of 500 messages took 36 s and ran out of memory (a 500). Only the
 * first issue is ever shown (http/errors.ts), so the rest is not collected. `safeParse` and the
 * dashboard's forms still see every issue: only `~standard` changes.
 */
export function firstIssueOnly<T extends v.GenericSchema>(schema: T): T {
  return {
    ...schema,
    "~standard": {
      ...schema["~standard"],
      validate: (value: unknown) => schema["~run"]({ value }, v.getGlobalConfig({ abortEarly: true })),
    },
  } as T;
}
