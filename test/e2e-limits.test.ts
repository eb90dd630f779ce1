/**
 * Governance pages in a real browser (headless Chromium via playwright-core), in the style of
 * e2e.test.ts: the Limits section of the create-key form, a key's edit page, budget meters, the
 * workspace limits form, usage by key and the logs' key column and tag filter — with JavaScript
 * (htmx) and without. Spend and log tags are seeded with SQL (the log writer fills them in
 * production). Screenshots at 1280×800 and 390×844 go to test-output/screenshots/ and, when
 * SCREENS_DIR is set, there too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { TestApp } from "./support/app.ts";
import { makeRecord } from "./support/logs.ts";
import { browserTestsEnabled, screenshot, seeText, seeVisible, watchProblems, openBrowserApp } from "./support/browser.ts";

const enabled = browserTestsEnabled();
const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "mobile", width: 390, height: 844 },
] as const;

let t: TestApp;
let base = "";
let browser: Browser;
let close = async () => {};
beforeAll(async () => {
  if (enabled) ({ t, base, browser, close } = await openBrowserApp());
});
afterAll(() => close());

const unexpected = (problems: string[]) => problems.filter((p) => !/status of 422/.test(p));

for (const js of [true, false]) {
  describe.skipIf(!enabled)(`governance pages in Chromium, JavaScript ${js ? "on" : "off"}`, () => {
    let context: BrowserContext;
    let page: Page;
    let problems: string[];
    let workspaceUrl = "";
    let workspaceId = "";

    beforeAll(async () => {
      context = await browser.newContext({ viewport: { width: 1280, height: 800 }, javaScriptEnabled: js });
      problems = watchProblems(context, base);
      page = await context.newPage();
      await page.goto(`${base}/signup`);
      await page.getByLabel("Email").fill(`gov-${js ? "js" : "nojs"}@example.com`);
      await page.getByLabel("Password").fill("correct horse battery staple");
      await page.getByRole("button", { name: "Create account" }).click();
      // Sign-up opens its own workspace's checklist; this test wants a workspace of its own making.
      await page.waitForURL(/\/start$/);
      await page.goto(`${base}/app`);
      await page.getByLabel("Name").fill("Governed");
      await page.getByRole("button", { name: "Create workspace" }).click();
      await page.waitForURL(/\/app\/w\/[^/]+$/);
      workspaceUrl = new URL(page.url()).pathname;
      workspaceId = workspaceUrl.split("/").pop()!;
    });
    afterAll(() => context?.close());

    test("the Limits section opens, an error comes back inline, then the key is created with its limits", async () => {
      await page.goto(`${base}${workspaceUrl}/keys`);
      await page.getByLabel("Name", { exact: true }).fill("search-prod");
      await page.locator("summary", { hasText: "Limits" }).click();
      await page.getByLabel("Requests per minute").fill("60");
      await page.getByLabel("Budget (US dollars)").fill("oops");
      await page.getByLabel("Tags").fill("team:search, <b>env</b>");
      await page.getByRole("button", { name: "Create key" }).click();
      await seeText(page.locator("#f-budget_usd-error"), "US dollars");
      expect(await page.getByLabel("Requests per minute").inputValue()).toBe("60");
      await page.getByLabel("Budget (US dollars)").fill("10");
      await page.getByLabel("Budget period").selectOption("month");
      await page.getByLabel("Allowed models").fill("gpt-4o*\nclaude-*");
      await page.getByRole("button", { name: "Create key" }).click();
      await seeVisible(page.getByRole("heading", { name: /Key search-prod created/ }));
      const [k] = await t.sql`select id from api_keys where workspace_id = ${workspaceId}`;
      await t.sql`insert into usage_key_daily (workspace_id, day, api_key_id, requests, errors, prompt_tokens, completion_tokens, cost_usd)
                  values (${workspaceId}, current_date, ${k.id}, 40, 3, 12000, 3400, 8.25)`;
      await t.sql`insert into usage_daily (workspace_id, day, provider_id, model, requests, cost_usd) values (${workspaceId}, current_date, 'p', 'gpt-4o', 40, 8.25)`;
      const tagged = makeRecord(workspaceId, { api_key_id: k.id });
      t.deps.logQueue.enqueue(tagged);
      t.deps.logQueue.enqueue(makeRecord(workspaceId, { api_key_id: k.id, model_requested: "claude-sonnet-4-5" }));
      await t.deps.logQueue.flush();
      await t.sql`update request_logs set tags = ${t.sql.array(["team:search", "<b>env</b>"])}::text[] where id = ${tagged.id}`;

      await page.goto(`${base}${workspaceUrl}/keys`);
      const meter = page.getByRole("progressbar", { name: "Budget spent by search-prod" });
      expect(await meter.getAttribute("value")).toBe("83");
      await seeText(page.locator(".meter-text").first(), "$8.25 of $10.00 this month (83%)");
      await seeText(page.locator(".chip-tag").nth(1), "<b>env</b>");
      expect(unexpected(problems)).toEqual([]);
    });

    test("the edit page saves new limits and goes back to the list", async () => {
      await page.getByRole("link", { name: "Edit search-prod" }).click();
      await page.waitForURL(/\/keys\/[^/]+\/edit$/);
      await page.getByLabel("Tokens per minute").fill("0");
      await page.getByRole("button", { name: "Save changes" }).click();
      await seeText(page.locator("#f-tpm_limit-error"), "whole number");
      await page.getByLabel("Tokens per minute").fill("90000");
      await page.getByRole("button", { name: "Save changes" }).click();
      await page.waitForURL(/\/keys\?done=saved$/);
      await seeText(page.locator("table"), "90,000 tokens/min");
      expect(unexpected(problems)).toEqual([]);
    });

    test("settings, usage and logs show the limits, spend, key names and filter by tag", async () => {
      await page.goto(`${base}${workspaceUrl}/settings`);
      await page.getByLabel("Budget (US dollars)").fill("20");
      await page.getByLabel("Budget period").selectOption("day");
      await page.getByRole("button", { name: "Save limits" }).click();
      await seeText(page.locator("#limits"), "Limits saved.");
      await seeText(page.locator("#limits .meter-text"), "$8.25 of $20.00 today (41%)");

      await page.goto(`${base}${workspaceUrl}/usage`);
      await seeText(page.getByRole("region", { name: "By key" }), "search-prod");

      await page.goto(`${base}${workspaceUrl}/logs`);
      await page.getByLabel("Tag").fill("team:search");
      await page.getByRole("button", { name: "Apply" }).click();
      await page.waitForURL(/tag=team%3Asearch/);
      await seeText(page.locator(".result-count"), "1 request");
      await seeText(page.locator("table"), "search-prod");
      expect(unexpected(problems)).toEqual([]);
    });

    if (js) {
      test("screenshots of every changed page at 1280×800 and 390×844", async () => {
        const [k] = await t.sql`select id from api_keys where workspace_id = ${workspaceId}`;
        const pages: [string, string][] = [
          ["keys", "/keys"],
          ["key-edit", `/keys/${k.id}/edit`],
          ["settings", "/settings"],
          ["usage", "/usage"],
          ["logs", "/logs?tag=team:search"],
        ];
        for (const vp of VIEWPORTS) {
          await page.setViewportSize({ width: vp.width, height: vp.height });
          for (const [name, path] of pages) {
            await page.goto(`${base}${workspaceUrl}${path}`);
            await screenshot(page, `limits-${name}-${vp.name}`);
            // A key with limits, a budget meter and tags still fits its table: no button is cut off.
            const fit = await page.evaluate(() => {
              const wrap = document.querySelector(".table-wrap");
              if (!wrap) return null;
              const box = wrap.getBoundingClientRect();
              const out = Array.from(wrap.querySelectorAll(".actions .btn")).filter((b) => {
                const r = b.getBoundingClientRect();
                return r.left < box.left || r.right > box.right;
              });
              return { scroll: wrap.scrollWidth - wrap.clientWidth, out: out.length };
            });
            if (name === "keys") expect(fit).toEqual({ scroll: expect.any(Number), out: 0 });
            if ((name === "keys" || name === "logs") && fit!.scroll > 1)
              throw new Error(`${name} at ${vp.name} is ${fit!.scroll}px wider than its box`);
          }
          await page.goto(`${base}${workspaceUrl}/keys`);
          await page.locator("summary", { hasText: "Limits" }).click();
          await screenshot(page, `limits-keys-form-open-${vp.name}`);
        }
        expect(unexpected(problems)).toEqual([]);
      });
    }
  });
}
