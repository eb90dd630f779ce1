import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Database, type Sql } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { createKeyring, type Keyring } from "../src/providers/keyring.ts";
import { createProvider, loadProviderConfigs } from "../src/providers/service.ts";
import { rotateProviderKeys, RotationError } from "../src/providers/rotate.ts";
import { testApp, TEST_SECRET, type TestApp } from "./support/app.ts";
import { silentLogger } from "../src/logger.ts";
import { actorFor, ChangeBus } from "../src/events.ts";
import { testDatabase } from "./support/db.ts";
import { startMockUpstream } from "./support/mock-upstreams.ts";

const OLD = TEST_SECRET;
const NEW = "the-new-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const STRANGER = "a-secret-nobody-configured-0123456789-abcdefghijkl";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

const oldRing = createKeyring({ secret: OLD, previousSecrets: [] });
const rotatingRing = createKeyring({ secret: NEW, previousSecrets: [OLD] });
const newOnlyRing = createKeyring({ secret: NEW, previousSecrets: [] });

async function workspaceWithKeys(sql: Sql, ring: Keyring, n: number) {
  const userId = crypto.randomUUID();
  const wsId = crypto.randomUUID();
  await sql`insert into users (id, email, password_hash) values (${userId}, ${`${userId}@example.com`}, 'x')`;
  await sql`insert into workspaces (id, name) values (${wsId}, 'Rotation')`;
  const keys: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = `sk-rotate-${i}-${crypto.randomUUID()}`;
    keys.push(key);
    await createProvider(
      actorFor({ sql, events: new ChangeBus(), logger: silentLogger }, userId),
      ring,
      wsId,
      { name: `p${i}`, type: "openai", api_key: key },
      { allowPrivateBaseUrls: true },
    );
  }
  // One without a key: nothing to rotate there.
  await createProvider(
    actorFor({ sql, events: new ChangeBus(), logger: silentLogger }, userId),
    ring,
    wsId,
    { name: "local", type: "ollama" },
    { allowPrivateBaseUrls: true },
  );
  return { wsId, keys };
}

const versions = async (sql: Sql, wsId: string) =>
  (await sql<{ key_version: string | null }[]>`select key_version from provider_keys where workspace_id = ${wsId} order by name`).map(
    (r) => r.key_version,
  );

describe("rotateProviderKeys", () => {
  test("re-encrypts every key sealed with an older secret, in batches, and the new secret alone then reads them", async () => {
    const { wsId, keys } = await workspaceWithKeys(t.sql, oldRing, 5);
    const before =
      await t.sql`select id, key_ciphertext, key_nonce from provider_keys where workspace_id = ${wsId} and key_ciphertext is not null`;
    const { reencrypted } = await rotateProviderKeys(t.sql, rotatingRing, { batchSize: 2 });
    expect(reencrypted).toBeGreaterThanOrEqual(5);
    expect(await versions(t.sql, wsId)).toEqual([null, ...Array(5).fill(newOnlyRing.currentVersion)]);
    const after =
      await t.sql`select id, key_ciphertext, key_nonce from provider_keys where workspace_id = ${wsId} and key_ciphertext is not null`;
    for (const row of after) {
      const old = before.find((b) => b.id === row.id)!;
      expect(Buffer.from(row.key_nonce).equals(Buffer.from(old.key_nonce))).toBe(false);
      expect(Buffer.from(row.key_ciphertext).equals(Buffer.from(old.key_ciphertext))).toBe(false);
    }
    const configs = await loadProviderConfigs(t.sql, wsId, newOnlyRing);
    expect(configs.filter((c) => c.api_key).map((c) => c.api_key)).toEqual(keys);
    expect(loadProviderConfigs(t.sql, wsId, oldRing)).rejects.toThrow(/PERPETUO_SECRET_PREVIOUS/);
  });

  test("running it again re-encrypts nothing", async () => {
    await workspaceWithKeys(t.sql, oldRing, 2);
    await rotateProviderKeys(t.sql, rotatingRing);
    expect(await rotateProviderKeys(t.sql, rotatingRing)).toEqual({ reencrypted: 0 });
  });

  test("a key no known secret can decrypt stops it with an error naming the entry", async () => {
    const stranger = createKeyring({ secret: STRANGER, previousSecrets: [] });
    const { wsId } = await workspaceWithKeys(t.sql, stranger, 1);
    let error: unknown;
    try {
      await rotateProviderKeys(t.sql, rotatingRing);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RotationError);
    expect((error as Error).message).toMatch(
      new RegExp(`provider 'p0' \\(.+, workspace ${wsId}\\) cannot be re-encrypted: .*key version ${stranger.currentVersion}`),
    );
    expect((error as Error).message).toContain("PERPETUO_SECRET_PREVIOUS");
    expect((error as Error).message).not.toContain(STRANGER);
    expect(await versions(t.sql, wsId)).toEqual([null, stranger.currentVersion]);
    await t.sql`delete from provider_keys where workspace_id = ${wsId}`;
  });

  test("a tampered ciphertext stops it with an error", async () => {
    const { wsId } = await workspaceWithKeys(t.sql, oldRing, 1);
    await t.sql`update provider_keys set key_ciphertext = overlay(key_ciphertext placing '\\x00'::bytea from 1 for 1) where workspace_id = ${wsId} and key_ciphertext is not null`;
    await t.sql`update provider_keys set key_ciphertext = overlay(key_ciphertext placing '\\xff'::bytea from 2 for 1) where workspace_id = ${wsId} and key_ciphertext is not null`;
    expect(rotateProviderKeys(t.sql, rotatingRing)).rejects.toThrow(/provider 'p0'.*failed authentication/);
    await t.sql`delete from provider_keys where workspace_id = ${wsId}`;
  });

  test("between restart and rotation the app reads keys sealed with the previous secret", async () => {
    const up = await startMockUpstream("openai", { expectedKey: "sk-before-rotation-0123456789" });
    const app = await testApp({ config: { secret: NEW, previousSecrets: [OLD] } });
    try {
      const user = await app.signup();
      const ws = await app.workspace(user.token);
      const p = await createProvider(
        actorFor({ sql: app.sql, events: new ChangeBus(), logger: silentLogger }, user.user.id),
        oldRing,
        ws.id,
        { name: "mock", type: "openai_compatible", base_url: up.url, api_key: "sk-before-rotation-0123456789" },
        { allowPrivateBaseUrls: true },
      );
      const r = await app.call("POST", `/workspaces/${ws.id}/providers/${p.id}/test`, { token: user.token });
      expect(r.body).toMatchObject({ ok: true, model: "gpt-4o-mini" });
    } finally {
      await app.close();
      await up.stop();
    }
  });
});

describe("bun run rotate-secret", () => {
  const root = join(import.meta.dir, "..");
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "perpetuo-rotate-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(env: Record<string, string>) {
    const proc = Bun.spawn(["bun", "src/index.ts", "rotate-secret"], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dir, LOG_LEVEL: "error", PERPETUO_SECRET_PREVIOUS: "", ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const code = await proc.exited;
    return { code, stdout: (await new Response(proc.stdout).text()).trim(), stderr: (await new Response(proc.stderr).text()).trim() };
  }

  test("re-encrypts with the new secret, prints the count, and fails clearly without the old one", async () => {
    // A server database when DATABASE_URL is set, else an embedded one on disk the CLI opens after us.
    const server = process.env.DATABASE_URL ? await testDatabase() : null;
    const open = async (): Promise<Database> => server ?? (await openDatabase({ databaseUrl: null, dataDir: dir }));
    const release = async (db: Database) => {
      if (!server) await db.close();
    };
    const env = { DATABASE_URL: server?.url ?? "" };
    try {
      let db = await open();
      await migrate(db.sql);
      const { wsId, keys } = await workspaceWithKeys(db.sql, oldRing, 3);
      await release(db);

      const first = await cli({ ...env, PERPETUO_SECRET: NEW, PERPETUO_SECRET_PREVIOUS: OLD });
      expect(first).toEqual({
        code: 0,
        stdout: `re-encrypted 3 provider keys; all are now sealed with key version ${newOnlyRing.currentVersion}`,
        stderr: "",
      });
      const again = await cli({ ...env, PERPETUO_SECRET: NEW });
      expect(again.code).toBe(0);
      expect(again.stdout).toStartWith("re-encrypted 0 provider keys");

      db = await open();
      expect((await loadProviderConfigs(db.sql, wsId, newOnlyRing)).map((c) => c.api_key).filter(Boolean)).toEqual(keys);
      await release(db);

      const wrong = await cli({ ...env, PERPETUO_SECRET: STRANGER });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/^perpetuo: provider 'p[0-2]' \(.+\) cannot be re-encrypted: .*PERPETUO_SECRET_PREVIOUS/);
      expect(wrong.stderr).not.toContain(NEW);
      expect(wrong.stderr).not.toContain(STRANGER);
    } finally {
      await server?.close();
    }
  });
});
