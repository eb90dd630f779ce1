import * as v from "valibot";
import type { Config } from "../config.ts";
import { openDatabase } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { SignupBody } from "../accounts/model.ts";
import { createUser, EmailTakenError } from "../accounts/service.ts";
import { WorkspaceName } from "../workspaces/model.ts";
import { createWorkspace } from "../workspaces/service.ts";
import { actorFor, ChangeBus } from "../events.ts";
import { silentLogger } from "../logger.ts";
import { parseOptions, UsageError } from "./args.ts";

/** A value the command refuses (bad email, short password, email taken): one line, exit 1. */
export class CreateUserError extends Error {}

interface CreateUserInput {
  email: string;
  password: string;
  name?: string;
  workspace?: string;
}

/** `create-user --email E [--name N] [--workspace W]`; the password never comes from argv. */
export function parseCreateUserArgs(args: string[]): { email: string; name?: string; workspace?: string } {
  const opts = parseOptions(args, ["email", "name", "workspace"]);
  if (!opts.email) throw new UsageError("create-user needs --email");
  return { email: opts.email, name: opts.name, workspace: opts.workspace };
}

/**
 * The password: PERPETUO_PASSWORD when set, else the first line of stdin (a prompt without echo
 * when stdin is a terminal). Never an argument, which other users could read from the process list.
 */
export async function readPassword(env: Record<string, string | undefined> = process.env): Promise<string> {
  const fromEnv = env.PERPETUO_PASSWORD;
  if (fromEnv) return fromEnv;
  const tty = process.stdin.isTTY === true;
  let restoreEcho = () => {};
  if (tty) {
    process.stderr.write("Password: ");
    // Best effort: without stty the password is still read, only echoed.
    const stty = (flag: string): boolean => {
      try {
        return Bun.spawnSync(["stty", flag], { stdin: "inherit", stdout: "ignore", stderr: "ignore" }).exitCode === 0;
      } catch {
        return false; // no stty (a distroless image)
      }
    };
    if (stty("-echo")) restoreEcho = () => void stty("echo");
  }
  try {
    const line = await readFirstLine(Bun.stdin.stream());
    if (tty) process.stderr.write("\n");
    if (!line) throw new CreateUserError("no password given: set PERPETUO_PASSWORD or write it on stdin");
    return line;
  } finally {
    restoreEcho();
  }
}

export async function readFirstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (text.includes("\n")) break;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text.split("\n")[0].replace(/\r$/, "");
}

/** Checks the input with the same rules as the signup API and the workspace API. */
function validateCreateUser(input: CreateUserInput): CreateUserInput {
  const user = v.safeParse(SignupBody, { email: input.email, password: input.password, name: input.name });
  if (!user.success) throw new CreateUserError(user.issues[0].message);
  let workspace: string | undefined;
  if (input.workspace !== undefined) {
    const ws = v.safeParse(WorkspaceName, input.workspace);
    if (!ws.success) throw new CreateUserError(`workspace ${ws.issues[0].message.replace(/^name /, "")}`);
    workspace = ws.output;
  }
  return { email: user.output.email, password: user.output.password, name: user.output.name || undefined, workspace };
}

/** Creates the user (and their workspace) in the configured database; returns both ids. */
export async function createUserCommand(config: Config, input: CreateUserInput): Promise<{ userId: string; workspaceId: string | null }> {
  const checked = validateCreateUser(input);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, max: 1 });
  try {
    await migrate(db.sql);
    let user;
    try {
      user = await createUser(db.sql, { email: checked.email, password: checked.password, name: checked.name ?? null });
    } catch (err) {
      if (err instanceof EmailTakenError) throw new CreateUserError(`${err.message}: ${checked.email}`);
      throw err;
    }
    if (!checked.workspace) return { userId: user.id, workspaceId: null };
    try {
      // No cache here to tell, and the CLI prints its own result rather than an audit line.
      const ws = await createWorkspace(
        actorFor({ sql: db.sql, events: new ChangeBus(), logger: silentLogger }, user.id),
        checked.workspace,
      );
      return { userId: user.id, workspaceId: ws.id };
    } catch (err) {
      // All or nothing: a user without the workspace asked for would surprise a script.
      await db.sql`delete from users where id = ${user.id}`.catch(() => {});
      throw err;
    }
  } finally {
    await db.close();
  }
}
