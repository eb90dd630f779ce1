import OpenAI from "openai";
import { startMockUpstream, type MockKind, type MockUpstream, type MockUpstreamOptions } from "./mock-upstreams.ts";
import { testApp, type TestApp } from "./app.ts";

/**
 * A listening Perpetuo with one user, one workspace and one gateway key, plus helpers to add
 * providers pointing at mock upstreams and an OpenAI SDK client aimed at it.
 */
export async function gatewayHarness(over: Parameters<typeof testApp>[0] = {}) {
  const t: TestApp = await testApp(over);
  const server = t.app.listen({ port: 0, hostname: "127.0.0.1" });
  const base = `http://127.0.0.1:${server.server!.port}`;
  const owner = await t.signup();
  const ws = await t.workspace(owner.token, "Gateway");
  const mocks: MockUpstream[] = [];

  async function createKey(name = "test key"): Promise<{ id: string; key: string }> {
    const r = await t.call("POST", `/workspaces/${ws.id}/api-keys`, { token: owner.token, body: { name } });
    if (r.status !== 201) throw new Error(`key: ${r.status} ${r.text}`);
    return { id: r.body.id, key: r.body.key };
  }
  const { key, id: keyId } = await createKey();

  let n = 0;
  async function addProvider(
    kind: MockKind | { type: string; url: string },
    body: Record<string, unknown> = {},
    mockOpts: MockUpstreamOptions = {},
  ): Promise<{ id: string; name: string; mock: MockUpstream | null }> {
    let mock: MockUpstream | null = null;
    let type: string;
    let url: string;
    if (typeof kind === "string") {
      const apiKey = (body.api_key as string) ?? `sk-${kind}-secret-${++n}-abcdefghijkl`;
      mock = await startMockUpstream(kind, { expectedKey: apiKey, ...mockOpts });
      mocks.push(mock);
      type = kind;
      url = mock.url;
      body = { api_key: apiKey, ...body };
    } else {
      type = kind.type;
      url = kind.url;
    }
    const r = await t.call("POST", `/workspaces/${ws.id}/providers`, {
      token: owner.token,
      body: { name: `${type}-${++n}`, type, base_url: url, ...body },
    });
    if (r.status !== 201) throw new Error(`provider: ${r.status} ${r.text}`);
    return { id: r.body.id, name: r.body.name, mock };
  }

  const client = (apiKey = key) => new OpenAI({ apiKey, baseURL: `${base}/v1`, maxRetries: 0, timeout: 20_000 });

  return {
    t,
    base,
    owner,
    ws,
    key,
    keyId,
    createKey,
    addProvider,
    client,
    async close() {
      // Teardown: drop connections still open (a refused upload may still be sending) instead of waiting on them.
      await server.stop(true);
      await Promise.all(mocks.map((m) => m.stop()));
      await t.deps.gateway?.stop();
      await t.close();
    },
  };
}

export type GatewayHarness = Awaited<ReturnType<typeof gatewayHarness>>;
