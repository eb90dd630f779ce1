import type * as v from "valibot";
import type { AppDeps } from "../deps.ts";
import type { Sql, TransactionSql } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import { claimInvitation, joinWorkspace } from "../invitations/service.ts";
import type { SignupBody } from "./model.ts";
import { createUser, EmailTakenError, type PasswordOptions, type PublicUser } from "./service.ts";

type SignupMode = AppDeps["config"]["signup"];

type SignupInput = v.InferOutput<typeof SignupBody>;

interface SignupResult {
  user: PublicUser;
  /** The workspace an invitation made the new user a member of. */
  workspace: { id: string; name: string; role: "owner" | "admin" | "member" } | null;
}

// Any constant works: it serialises "is this the first account?" across instances.
const FIRST_USER_LOCK = 0x70727075; // "prpu"

const signupClosed = () =>
  new ApiError(403, "sign-up is closed on this Perpetuo; the operator creates accounts (perpetuo create-user)", { code: "signup_closed" });
const invitationRequired = () =>
  new ApiError(403, "sign-up on this Perpetuo needs an invitation; ask a workspace admin to invite you", { code: "invitation_required" });

/**
 * One answer for every refusal of valid-looking details, an address that has an account included,
 * so sign-up does not tell strangers which addresses are registered. The password was hashed
 * before the refusal either way, so the timing does not tell either.
 */
const signupFailed = () =>
  new ApiError(400, "could not create an account with these details; if you already have one, sign in", { code: "signup_failed" });

/** Whether the sign-up form is offered to someone without an invitation. */
export async function signupAllowed(sql: Sql, mode: SignupMode): Promise<boolean> {
  if (mode === "open") return true;
  if (mode === "closed") return false;
  return !(await anyUser(sql));
}

async function anyUser(sql: Sql | TransactionSql): Promise<boolean> {
  const [row] = await sql<{ any: boolean }[]>`select exists (select 1 from users) as any`;
  return row.any;
}

async function create(sql: Sql | TransactionSql, input: SignupInput, opts: PasswordOptions | undefined): Promise<PublicUser> {
  try {
    return await createUser(sql as Sql, { email: input.email, password: input.password, name: input.name }, opts);
  } catch (err) {
    if (err instanceof EmailTakenError) throw signupFailed();
    throw err;
  }
}

/**
 * Sign-up under the SIGNUP mode: `open` lets anyone in; `invite` lets in the first account of an
 * empty instance and holders of a valid invitation; `closed` nobody (the create-user command still
 * works). The mode is checked before the address is looked at, so a refused sign-up answers the
 * same for registered and unknown addresses.
 */
export async function signUp(deps: Pick<AppDeps, "sql" | "config" | "passwordOptions">, input: SignupInput): Promise<SignupResult> {
  const { sql, config, passwordOptions } = deps;
  const mode = config.signup;
  if (mode === "closed") throw signupClosed();
  if (input.invitation) {
    const token = input.invitation;
    // One transaction: the invitation is spent only if the account is created, and only once.
    return sql.begin(async (tx) => {
      const inv = await claimInvitation(tx, token, input.email, null);
      const user = await create(tx, input, passwordOptions);
      await tx`update invitations set accepted_by = ${user.id} where id = ${inv.id}`;
      return { user, workspace: await joinWorkspace(tx, inv.workspace_id, user.id, inv.role) };
    });
  }
  if (mode === "open") return { user: await create(sql, input, passwordOptions), workspace: null };
  if (await anyUser(sql)) throw invitationRequired();
  // The first account: two strangers racing for an empty instance must not both get in.
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${FIRST_USER_LOCK})`;
    if (await anyUser(tx)) throw invitationRequired();
    return { user: await create(tx, input, passwordOptions), workspace: null };
  });
}
