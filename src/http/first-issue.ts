import * as v from "valibot";

/**
 * The schema as Elysia sees it (Standard Schema), reporting only its first issue. Outside production,
 * Elysia's ValidationError pretty-prints every issue with the inputs along its path: a 128 KB /v1
 * body with one bad part in each of 500 messages took 36 s and ran out of memory (a 500). Only the
 * first issue is ever shown (http/errors.ts), so only that one is handed on. `safeParse` and the
 * dashboard's forms still see every issue: only `~standard` changes.
 */
export function firstIssueOnly<T extends v.GenericSchema>(schema: T): T {
  return {
    ...schema,
    "~standard": {
      ...schema["~standard"],
      // A full run (so a union's issue keeps the nested issues that name the real mistake), of which
      // only the first issue is handed on: collecting them is cheap, Elysia's rendering of each is not.
      validate: (value: unknown) => {
        const result = schema["~run"]({ value }, v.getGlobalConfig());
        return result.issues ? { issues: [result.issues[0]] } : { value: result.value };
      },
    },
  } as T;
}
