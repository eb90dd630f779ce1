import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addressTier, hostTier } from "../src/net/address.ts";
import { BlockedAddressError, createUpstreamFetch, systemLookup, type Lookup } from "../src/net/fetch.ts";
import { hostname } from "node:os";
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { createGatewayServices } from "../src/gateway/services.ts";
import { createApp } from "../src/app.ts";
import { testApp } from "./support/app.ts";

// The SSRF guard (ALLOW_PRIVATE_BASE_URLS, src/net/): addresses judged after DNS, connections pinned
// to the judged address. Everything else in the suite runs with private addresses allowed.

/** DNS as the test says: each call answers the next entry of `answers[host]` (the last one repeats). */
function fakeDns(answers: Record<string, string[][]>) {
  const calls: string[] = [];
  const lookup: Lookup = async (host) => {
    calls.push(host);
    const list = answers[host];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    const n = calls.filter((h) => h === host).length;
    const ips = list[Math.min(n, list.length) - 1];
    return ips.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { lookup, calls };
}

const own = hostname().toLowerCase();
const ownAddresses = await systemLookup(own).catch(() => []);

describe("address tiers", () => {
  test.each([
    ["169.254.169.254", "metadata"],
    ["169.254.170.2", "metadata"],
    ["100.100.100.200", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["fe80::1", "metadata"],
    ["64:ff9b::a9fe:a9fe", "metadata"],
    ["64:ff9b::169.254.169.254", "metadata"],
    ["::ffff:169.254.169.254", "metadata"],
    ["2002:a9fe:a9fe::1", "metadata"],
    ["127.0.0.1", "private"],
    ["127.255.255.254", "private"],
    ["0.0.0.0", "private"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["100.127.255.255", "private"],
    ["224.0.0.1", "private"],
    ["255.255.255.255", "private"],
    ["::1", "private"],
    ["::", "private"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["64:ff9b:1::1", "private"],
    ["64:ff9b:1::a9fe:a9fe", "metadata"],
    ["::ffff:127.0.0.1", "private"],
    ["::ffff:8.8.8.8", "private"],
    ["::127.0.0.1", "private"],
    ["64:ff9b::7f00:1", "private"],
    ["ff02::1", "private"],
    ["8.8.8.8", null],
    ["172.32.0.1", null],
    ["100.128.0.1", null],
    ["169.255.169.254", null],
    ["64:ff9b::808:808", null],
    ["2606:4700::6810:84e5", null],
  ])("%s is %s", (ip, tier) => {
    expect(addressTier(ip)).toBe(tier as any);
  });

  test("host names: metadata names and localhost are judged before any DNS", () => {
    expect(hostTier("metadata.google.internal")).toBe("metadata");
    expect(hostTier("localhost")).toBe("private");
    expect(hostTier("api.localhost")).toBe("private");
    expect(hostTier("[::1]")).toBe("private");
    expect(hostTier("api.openai.com")).toBe(null);
  });
});

describe("guarded fetch", () => {
  let mock: MockUpstream;
  beforeAll(async () => {
    mock = await startMockUpstream("openai", { models: ["m1"] });
  });
  afterAll(() => mock.stop());
  const port = () => new URL(mock.url).port;

  const refused = async (f: ReturnType<typeof createUpstreamFetch>, url: string) => {
    const before = mock.requests.length;
    const err = await f(url).then(
      () => null,
      (e) => e,
    );
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect(mock.requests.length).toBe(before);
    return err as BlockedAddressError;
  };

  test("a name resolving to 127.0.0.1 (localhost) is refused without private addresses, and nothing is sent", async () => {
    const err = await refused(createUpstreamFetch({ allowPrivate: false }), `http://localhost:${port()}/v1/models`);
    expect(err.message).toContain("ALLOW_PRIVATE_BASE_URLS");
  });

  // The machine's own name resolves (through /etc/hosts, with the system resolver) to a loopback or
  // private address on ordinary hosts and containers; where it does not resolve, there is nothing to show.
  test.if(ownAddresses.length > 0 && ownAddresses.every((a) => addressTier(a.address) === "private"))(
    `the system resolver is used: this machine's name (${own}) resolves to a private address and is refused`,
    async () => {
      const err = await refused(createUpstreamFetch({ allowPrivate: false }), `http://${own}:${port()}/v1/models`);
      expect(err.message).toContain(`${own} resolves to `);
    },
  );

  test("a name resolving to 169.254.169.254 is refused even with private addresses allowed", async () => {
    const dns = fakeDns({ "evil.example": [["169.254.169.254"]] });
    const err = await refused(createUpstreamFetch({ allowPrivate: true, lookup: dns.lookup }), "http://evil.example/latest/meta-data");
    expect(err.message).toBe(
      "evil.example resolves to 169.254.169.254, which is a link-local or cloud metadata address, which is always refused",
    );
  });

  test("one bad address among several refuses the name", async () => {
    const dns = fakeDns({ "mixed.example": [["93.184.216.34", "10.0.0.7"]] });
    const err = await refused(createUpstreamFetch({ allowPrivate: false, lookup: dns.lookup }), "https://mixed.example/v1/models");
    expect(err.message).toContain("10.0.0.7");
  });

  test.each([
    ["http://127.0.0.1:PORT/v1/models", "private"],
    ["http://2130706433:PORT/v1/models", "private"],
    ["http://0x7f000001:PORT/v1/models", "private"],
    ["http://0x7f.1:PORT/v1/models", "private"],
    ["http://[::1]:PORT/v1/models", "private"],
    ["http://[::ffff:127.0.0.1]:PORT/v1/models", "private"],
    ["http://0.0.0.0:PORT/v1/models", "private"],
    ["http://100.100.100.200/latest/meta-data", "metadata"],
    ["http://[64:ff9b::a9fe:a9fe]/latest/meta-data", "metadata"],
    ["http://[64:ff9b:1::1]/", "private"],
    ["http://2852039166/latest/meta-data", "metadata"],
    ["http://0xa9fea9fe/latest/meta-data", "metadata"],
    ["http://metadata.google.internal/computeMetadata/v1", "metadata"],
  ])("the IP literal or name %s is refused (%s) with no DNS lookup", async (url, tier) => {
    const dns = fakeDns({});
    const err = await refused(createUpstreamFetch({ allowPrivate: false, lookup: dns.lookup }), url.replace("PORT", port()));
    expect(err.tier).toBe(tier as any);
    expect(dns.calls).toEqual([]);
  });

  test("the connection goes to the checked address, with the original Host header: the name is never resolved again", async () => {
    // `rebind.invalid` resolves nowhere but in our fake DNS: a fetch that looked it up itself would fail.
    const dns = fakeDns({ "rebind.invalid": [["127.0.0.1"], ["169.254.169.254"]] });
    const f = createUpstreamFetch({ allowPrivate: true, lookup: dns.lookup });
    mock.reset();
    const res = await f(`http://rebind.invalid:${port()}/v1/models`);
    expect(res.status).toBe(200);
    expect(mock.requests[0].headers.host).toBe(`rebind.invalid:${port()}`);
    // Within the cache's lifetime the second request reuses the checked address: one lookup only.
    expect((await f(`http://rebind.invalid:${port()}/v1/models`)).status).toBe(200);
    expect(dns.calls).toEqual(["rebind.invalid"]);
  });

  test("after the cache expires the name is resolved and checked again: a rebind to the metadata address is refused", async () => {
    let now = 1_000_000;
    const dns = fakeDns({ "rebind.invalid": [["127.0.0.1"], ["169.254.169.254"]] });
    const f = createUpstreamFetch({ allowPrivate: true, lookup: dns.lookup, ttlMs: 30_000, now: () => now });
    expect((await f(`http://rebind.invalid:${port()}/v1/models`)).status).toBe(200);
    now += 30_001;
    await refused(f, `http://rebind.invalid:${port()}/v1/models`);
    expect(dns.calls).toEqual(["rebind.invalid", "rebind.invalid"]);
  });

  test("redirects are never followed", async () => {
    const target = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ data: [] }) });
    const redirect = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.redirect(`http://127.0.0.1:${target.port}/`, 302) });
    try {
      const res = await createUpstreamFetch({ allowPrivate: true })(`http://127.0.0.1:${redirect.port}/`, { redirect: "follow" });
      expect(res.status).toBe(302);
    } finally {
      redirect.stop(true);
      target.stop(true);
    }
  });

  describe("https to a pinned address", () => {
    const dir = mkdtempSync(join(tmpdir(), "perpetuo-tls-"));
    const cert = (name: string) => {
      const p = Bun.spawnSync(
        [
          "openssl",
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "1",
          "-keyout",
          join(dir, `${name}.key`),
          "-out",
          join(dir, `${name}.pem`),
          "-subj",
          `/CN=${name}`,
          "-addext",
          `subjectAltName=DNS:${name}`,
        ],
        { stderr: "pipe" },
      );
      if (p.exitCode !== 0) throw new Error(`openssl failed: ${p.stderr.toString()}`);
      return { cert: readFileSync(join(dir, `${name}.pem`), "utf8"), key: readFileSync(join(dir, `${name}.key`), "utf8") };
    };
    const good = cert("api.provider.test");
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: good,
      fetch: (req) => Response.json({ host: req.headers.get("host"), path: new URL(req.url).pathname }),
    });
    afterAll(() => server.stop(true));
    const dns = fakeDns({ "api.provider.test": [["127.0.0.1"]], "impostor.test": [["127.0.0.1"]] });
    const f = createUpstreamFetch({ allowPrivate: true, lookup: dns.lookup });

    test("the certificate is verified against the original name (SNI), and the Host header is the original", async () => {
      const res = await f(`https://api.provider.test:${server.port}/v1/models`, { tls: { ca: good.cert } });
      expect(await res.json()).toEqual({ host: `api.provider.test:${server.port}`, path: "/v1/models" });
    });

    test("a certificate for another name is refused although the address is the same", async () => {
      const err = await f(`https://impostor.test:${server.port}/v1/models`, { tls: { ca: good.cert } }).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).toContain("ERR_TLS_CERT_ALTNAME_INVALID");
    });
  });
});

// One app (and database) per describe: on a loaded machine each costs seconds.
describe("without ALLOW_PRIVATE_BASE_URLS: saving, and the connection test", () => {
  let t: Awaited<ReturnType<typeof testApp>>;
  let base: string;
  let token: string;
  const dns = fakeDns({ "llm.corp.example": [["127.0.0.1"]], "meta.example": [["169.254.169.254"]] });
  beforeAll(async () => {
    t = await testApp({ config: { allowPrivateBaseUrls: false }, lookup: dns.lookup });
    const u = await t.signup();
    token = u.token;
    base = `/workspaces/${(await t.workspace(u.token)).id}/providers`;
  });
  afterAll(async () => {
    await t.deps.gateway.stop();
    await t.close();
  });

  test.each([
    "http://127.0.0.1:8000/v1",
    "http://localhost:11434/v1",
    "http://LOCALHOST./v1",
    "http://vllm.localhost/v1",
    "http://10.0.0.5:8000/v1",
    "http://172.16.0.1/v1",
    "http://192.168.1.20:8080",
    "http://100.64.0.1/v1",
    "http://[::1]:8000/v1",
    "http://[fd12:3456::1]/v1",
    "http://[::ffff:127.0.0.1]/v1",
    "http://[64:ff9b:1::1]/v1",
    "http://2130706433/v1",
    "http://0x7f000001/v1",
    "http://0.0.0.0:8000/v1",
  ])("%s is 422 on base_url naming ALLOW_PRIVATE_BASE_URLS", async (url) => {
    const r = await t.call("POST", base, { token, body: { name: "n", type: "openai_compatible", base_url: url } });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("base_url");
    expect(r.body.error.message).toContain("ALLOW_PRIVATE_BASE_URLS=true");
  });

  test.each(["http://100.100.100.200/", "http://[64:ff9b::a9fe:a9fe]/", "http://169.254.169.254/"])(
    "%s is refused as a metadata address, not as a private one",
    async (url) => {
      const r = await t.call("POST", base, { token, body: { name: "n", type: "openai_compatible", base_url: url } });
      expect(r.status).toBe(422);
      expect(r.body.error).toMatchObject({
        param: "base_url",
        message: "base_url must not point at a link-local or cloud metadata address",
      });
    },
  );

  test("Ollama's default base_url needs ALLOW_PRIVATE_BASE_URLS, and the message says so", async () => {
    const r = await t.call("POST", base, { token, body: { name: "ollama", type: "ollama" } });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("base_url");
    expect(r.body.error.message).toBe(
      "base_url (the ollama default, http://localhost:11434/v1) must not point at a local host name (localhost) unless the operator sets ALLOW_PRIVATE_BASE_URLS=true",
    );
  });

  test("a public host is fine (its addresses are checked when connecting)", async () => {
    const r = await t.call("POST", base, {
      token,
      body: { name: "public", type: "openai_compatible", base_url: "https://llm.example.com/v1" },
    });
    expect(r.status).toBe(201);
    const moved = await t.call("PUT", `${base}/${r.body.id}`, { token, body: { base_url: "http://10.1.1.1/v1" } });
    expect(moved.status).toBe(422);
    expect(moved.body.error.param).toBe("base_url");
  });

  test("the provider test says why a name resolving to 127.0.0.1 or 169.254.169.254 is refused, and nothing is sent", async () => {
    const mock = await startMockUpstream("openai", { models: ["m"] });
    const port = new URL(mock.url).port;
    try {
      const create = async (name: string, host: string) => {
        const r = await t.call("POST", base, {
          token,
          body: { name, type: "openai_compatible", base_url: `http://${host}:${port}/v1`, api_key: "sk-ssrf-0123456789abcdef" },
        });
        expect(r.status).toBe(201);
        return (await t.call("POST", `${base}/${r.body.id}/test`, { token })).body;
      };
      expect(await create("corp", "llm.corp.example")).toMatchObject({
        ok: false,
        status: null,
        message: `refused to connect to http://llm.corp.example:${port}: llm.corp.example resolves to 127.0.0.1, which is a loopback, private or reserved address; the operator must set ALLOW_PRIVATE_BASE_URLS=true to allow it`,
      });
      expect((await create("meta", "meta.example")).message).toContain(
        "169.254.169.254, which is a link-local or cloud metadata address, which is always refused",
      );
      expect(mock.requests).toEqual([]);
    } finally {
      await mock.stop();
    }
  });
});

describe("the gateway and refused addresses", () => {
  const dns = fakeDns({ "meta.example": [["169.254.169.254"]] });
  let h: GatewayHarness;
  let ok: Awaited<ReturnType<GatewayHarness["addProvider"]>>;
  beforeAll(async () => {
    h = await gatewayHarness({ lookup: dns.lookup });
    await h.addProvider({ type: "openai_compatible", url: "http://meta.example/v1" }, { api_key: "sk-never-sent-0123456789", priority: 1 });
    ok = await h.addProvider("openai", { priority: 2 });
  });
  afterAll(() => h.close());

  const chat = (app: { handle(r: Request): Response | Promise<Response> }) =>
    app.handle(
      new Request("http://localhost/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
      }),
    );

  test("an entry whose name resolves to 169.254.169.254 fails as blocked_address and the next entry answers", async () => {
    const res = await chat(h.t.app);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-perpetuo-provider")).toBe(ok.name);
    expect(res.headers.get("x-perpetuo-attempts")).toBe("2");
    expect(dns.calls).toContain("meta.example");
  });

  test("without ALLOW_PRIVATE_BASE_URLS the mock on 127.0.0.1 is refused too: 502 naming blocked_address, nothing sent", async () => {
    // The same data, served as an operator without ALLOW_PRIVATE_BASE_URLS would run it.
    const config = { ...h.t.deps.config, allowPrivateBaseUrls: false };
    const gateway = createGatewayServices({
      sql: h.t.sql,
      config,
      events: h.t.deps.events,
      logger: h.t.deps.logger,
      sink: null,
      tracker: null,
      lookup: dns.lookup,
    });
    try {
      const before = ok.mock!.requests.length;
      const res = await chat(createApp({ ...h.t.deps, config, gateway }));
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("all_providers_failed");
      expect(body.error.message).toContain("(blocked_address: meta.example resolves to 169.254.169.254");
      expect(body.error.message).toContain(
        "(blocked_address: 127.0.0.1 is a loopback, private or reserved address; the operator must set ALLOW_PRIVATE_BASE_URLS=true",
      );
      expect(ok.mock!.requests.length).toBe(before);
    } finally {
      await gateway.stop();
    }
  });
});
