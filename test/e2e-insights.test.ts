/**
 * Logs (quick ranges, live mode, export) and provider health in a real browser (headless Chromium
 * via playwright-core), with JavaScript (htmx) and without, at 1280×800 and 390×844. Log rows are
 * seeded through the log queue; screenshots go to test-output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { TestApp } from "./support/app.ts";
import { makeRecord } from "./support/logs.ts";
import { browserTestsEnabled, screenshot, seeExactText, seeText, seeVisible, watchProblems, openBrowserApp } from "./support/browser.ts";
import type { RequestRecord } from "../src/telemetry/types.ts";

const enabled = browserTestsEnabled();
const PASSWORD = "correct horse battery staple";

let t: TestApp;
let base = "";
let browser: Browser;
let close = async () => {};
beforeAll(async () => {
  if (enabled) ({ t, base, browser, close } = await openBrowserApp());
});
afterAll(() => close());

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

async function store(...records: RequestRecord[]) {
  for (const r of records) t.deps.logQueue.enqueue(r);
  await t.deps.logQueue.flush();
}

/** Whether any table box on the page is wider than it shows (something clipped or scrolled away). */
const overflowing = (page: Page) =>
  page.evaluate(() => Array.from(document.querySelectorAll(".table-wrap")).filter((el) => el.scrollWidth > el.clientWidth + 1).length);

for (const js of [true, false]) {
  describe.skipIf(!enabled)(`logs and provider health in Chromium, JavaScript ${js ? "on" : "off"}`, () => {
    let context: BrowserContext;
    let page: Page;
    let problems: string[];
    let ws = "";
    const tag = js ? "js" : "nojs";

    beforeAll(async () => {
      context = await browser.newContext({ viewport: { width: 1280, height: 800 }, javaScriptEnabled: js, acceptDownloads: true });
      problems = watchProblems(context, base);
      page = await context.newPage();
      const email = `insights-${tag}@example.com`;
      await page.goto(`${base}/signup`);
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Create account" }).click();
      // Sign-up creates the first workspace and opens its checklist.
      await page.waitForURL(/\/app\/w\/[^/]+\/start$/);
      ws = new URL(page.url()).pathname.split("/")[3]!;
      // Two providers through the JSON API (the same user's token); the first fails, the second answers.
      const login = await t.call("POST", "/auth/login", { body: { email, password: PASSWORD } });
      const ids: string[] = [];
      for (const name of ["primary-relay", "backup-relay"]) {
        const r = await t.call("POST", `/workspaces/${ws}/providers`, {
          token: login.body.token,
          body: { name, type: "openai_compatible", base_url: "http://127.0.0.1:9/v1", api_key: `sk-e2e-${name.length}-0123456789abcdef` },
        });
        if (r.status !== 201) throw new Error(`provider: ${r.status} ${r.text}`);
        ids.push(r.body.id);
      }
      const attempt = (i: number, ok: boolean, latency: number) => ({
        provider_id: ids[i],
        provider_name: i === 0 ? "primary-relay" : "backup-relay",
        provider_type: "openai_compatible",
        model: "gpt-4o-mini",
        status: ok ? 200 : 503,
        error_class: ok ? null : "overloaded",
        message: ok ? null : "Overloaded",
        latency_ms: latency,
      });
      const rows: RequestRecord[] = [];
      for (let i = 0; i < 14; i++) {
        rows.push(
          makeRecord(ws, {
            created_at: minutesAgo(i < 6 ? 5 + i * 7 : 120 + i * 60),
            model_requested: i % 2 ? "claude-sonnet-4-5-20250929" : "gpt-4o-mini",
            provider_id: ids[1],
            provider_name: "backup-relay",
            attempts: [attempt(0, false, 80 + i), attempt(1, true, 300 + 10 * i)],
            stream: i % 3 === 0,
            ttft_ms: i % 3 === 0 ? 210 : null,
            cost_usd: 0.00042 * (i + 1),
          }),
        );
      }
      await store(...rows);
      t.deps.gateway.cooldowns.cool(ids[0], 120_000);
    });
    afterAll(() => context?.close());

    test("logs: a quick range narrows the list and stays in the URL", async () => {
      await page.goto(`${base}/app/w/${ws}/logs`);
      await seeText(page.locator(".result-count"), "14 requests");
      await page.getByRole("link", { name: "Last 1 h" }).click();
      await page.waitForURL(/range=1h/);
      await seeText(page.locator(".result-count"), "6 requests");
      await screenshot(page, `40-logs-range-${tag}`);
      expect(await overflowing(page)).toBe(0);
    });

    test("logs: the export link downloads the filtered range as CSV", async () => {
      await page.goto(`${base}/app/w/${ws}/logs?range=1h`);
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
      expect(download.suggestedFilename()).toMatch(/^logs-.*\.csv$/);
      const text = readFileSync((await download.path())!, "utf8");
      expect(text.trim().split("\r\n")).toHaveLength(1 + 6);
    });

    test(
      js ? "logs: live mode brings a new request to the top without a reload" : "logs: without JavaScript, Refresh shows a new request",
      async () => {
        await page.goto(`${base}/app/w/${ws}/logs`);
        if (js) {
          await page.getByRole("link", { name: "Live: off" }).click();
          await page.waitForURL(/live=1/);
          await seeVisible(page.getByRole("link", { name: "Live: on" }));
          await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
        }
        await store(makeRecord(ws, { created_at: minutesAgo(0), model_requested: `live-model-${tag}` }));
        if (!js) await page.getByRole("link", { name: "Refresh" }).click();
        await seeText(page.locator(".table-logs tbody tr[data-row-href]").first(), `live-model-${tag}`, 15_000);
        if (js) {
          expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
          // Announced politely by count, in a status region that was on the page before the poll.
          const status = page.locator("#logs-live-status");
          expect([await status.getAttribute("role"), await status.getAttribute("aria-live")]).toEqual(["status", "polite"]);
          await seeExactText(status, "1 new request");
        }
        await screenshot(page, `41-logs-live-${tag}`);
      },
    );

    test("provider health: the failing provider, its failures by class, fallback rate and cooldown", async () => {
      await page.goto(`${base}/app/w/${ws}`);
      await page.getByRole("link", { name: "Health", exact: true }).click();
      await page.waitForURL(/\/health$/);
      const primary = page.locator(".table-health tbody tr", { hasText: "primary-relay" });
      await seeText(primary, "overloaded 14");
      await seeText(primary, "100%");
      await seeText(primary, /Cooling down\s+until \d{2}:\d{2}:\d{2} UTC/);
      await seeText(page.locator(".table-health tbody tr", { hasText: "backup-relay" }), "Ready");
      await screenshot(page, `42-health-${tag}`);
      expect(await overflowing(page)).toBe(0);
      await page.getByRole("link", { name: "Last 1 h" }).click();
      await page.waitForURL(/range=1h/);
      await seeText(primary, "overloaded 6");
    });

    test("at 390×844 logs and health read as cards: status, model and cost on each log card", async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${base}/app/w/${ws}/logs`);
      const card = page.locator(".table-logs tbody tr[data-row-href]").first();
      for (const cls of [".cell-status", ".cell-model", ".cell-cost"]) await seeVisible(card.locator(cls));
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      await screenshot(page, `43-logs-mobile-${tag}`);
      await page.goto(`${base}/app/w/${ws}/health`);
      await seeVisible(page.getByText("primary-relay"));
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      await screenshot(page, `44-health-mobile-${tag}`);
      await page.goto(`${base}/app/w/${ws}/usage`);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      await screenshot(page, `45-usage-mobile-${tag}`);
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    test("nothing broke along the way: no script errors, no CSP violations, no failed requests", () => {
      expect(problems.filter((p) => !/status of 422/.test(p))).toEqual([]);
    });
  });
}
