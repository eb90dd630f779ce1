/**
 * First run in a real browser (headless Chromium), at a laptop size (1280×800) and a phone size
 * (390×844): sign up → checklist → provider (type first, Test) → key with snippets → a request
 * made by running the Node snippet as shown → the checklist ticked → the request's detail as a
 * conversation with its raw body behind a toggle. Then the detail without JavaScript.
 * Screenshots land in test-output/screenshots/ (firstrun-*).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { TestApp } from "./support/app.ts";
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";
import { browserTestsEnabled, screenshot, openBrowserApp, seeText, seeVisible, watchProblems } from "./support/browser.ts";

const enabled = browserTestsEnabled();
const UPSTREAM_KEY = "sk-firstrun-e2e-0123456789abcdef";
const SIZES = [
  { name: "1280", width: 1280, height: 800 },
  { name: "390", width: 390, height: 844 },
] as const;

let t: TestApp;
let base = "";
let browser: Browser;
let upstream: MockUpstream;
let close = async () => {};
beforeAll(async () => {
  if (!enabled) return;
  upstream = await startMockUpstream("openai", {
    expectedKey: UPSTREAM_KEY,
    chatModels: ["gpt-4o-mini"],
    behaviour: { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] },
  });
  ({ t, base, browser, close } = await openBrowserApp());
});
afterAll(async () => {
  await close();
  await upstream?.stop();
});

const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

/** Runs a snippet exactly as the page shows it, from a directory inside the repository (so `openai` resolves). */
async function runNodeSnippet(code: string, key: string): Promise<string> {
  const root = join(import.meta.dir, "..", "test-output");
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, "snippet-"));
  try {
    const file = join(dir, "snippet.mjs");
    writeFileSync(file, code);
    const proc = Bun.spawn([process.execPath, file], { env: { ...process.env, PERPETUO_API_KEY: key }, stdout: "pipe", stderr: "pipe" });
    const [out, err, code_] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code_ !== 0) throw new Error(`snippet failed (${code_}): ${err}`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const size of SIZES)
  describe.skipIf(!enabled)(`first run at ${size.width}×${size.height}, JavaScript on`, () => {
    let context: BrowserContext;
    let page: Page;
    let problems: string[];
    let start = "";
    let key = "";
    const shot = (name: string) => screenshot(page, `firstrun-${size.name}-${name}`);

    beforeAll(async () => {
      context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
      problems = watchProblems(context, base);
      page = await context.newPage();
    });
    afterAll(() => context?.close());

    test("sign-up lands on the checklist of a new workspace named after the person", async () => {
      // Sign-up takes the workspace's content setting from the default (off): turn content logging on below.
      await page.goto(`${base}/signup`);
      await page.getByLabel("Your name").fill(`Grace ${size.name}`);
      await page.getByLabel("Email").fill(`grace-${size.name}@example.com`);
      await page.getByLabel("Password").fill("correct horse battery staple");
      await page.getByRole("button", { name: "Create account" }).click();
      await page.waitForURL(/\/app\/w\/[^/]+\/start$/);
      start = new URL(page.url()).pathname;
      await seeVisible(page.getByRole("heading", { level: 1, name: "Get started" }));
      await seeText(page.locator(".page-header .subtitle"), `0 of 4 done in Grace ${size.name}'s workspace`);
      expect(await page.locator(".check-done").count()).toBe(0);
      expect(await overflow(page)).toBeLessThanOrEqual(1);
      await shot("01-checklist");
    });

    test("adding a provider asks the type first, shows that type's hints, and Test answers with the model", async () => {
      await page.getByRole("link", { name: "Add a provider" }).click();
      await page.waitForURL(/\/providers\/new$/);
      await shot("02-provider-type");
      await page.getByRole("radio", { name: /^OpenAI Key like/ }).check();
      await page.getByRole("button", { name: "Continue" }).click();
      await page.waitForURL(/type=openai$/);
      expect(await page.getByLabel("API key").getAttribute("placeholder")).toBe("e.g. sk-proj-…");
      await seeText(page.locator(".type-summary"), "models like gpt-4o-mini");
      // With JavaScript the type select swaps the hints in place, and every example below follows it.
      await page.getByLabel("Name").fill("kept-name");
      await page.getByLabel("Type").selectOption("anthropic");
      await seeText(page.locator(".type-summary"), "claude-");
      expect(await page.getByLabel("API key").getAttribute("placeholder")).toBe("e.g. sk-ant-api03-…");
      await page.waitForSelector('#f-models[placeholder="e.g. claude-3-5-haiku-latest, claude-sonnet-4-0"]', { timeout: 5000 });
      expect(await page.getByLabel("Name").getAttribute("placeholder")).toBe("e.g. anthropic-main");
      expect(await page.getByLabel("Model aliases").getAttribute("placeholder")).toBe("e.g. fast=claude-3-5-haiku-latest");
      expect(await page.getByLabel("Name").inputValue()).toBe("kept-name");
      await page.getByLabel("Type").selectOption("openai");
      await seeText(page.locator(".type-summary"), "gpt-4o-mini");
      await page.getByLabel("Base URL").fill(upstream.url);
      await page.getByLabel("API key").fill(UPSTREAM_KEY);
      await page.getByLabel("Name").fill("openai-main");
      await page.getByLabel("Models").fill("gpt-4o-mini");
      expect(await overflow(page)).toBeLessThanOrEqual(1);
      await shot("03-provider-form");
      await page.getByRole("button", { name: "Add provider" }).click();
      await page.waitForURL(/\/providers\?done=created$/);
      await page.getByRole("button", { name: "Test openai-main" }).click();
      await seeText(page.locator(".test-result"), "Connected: gpt-4o-mini answered");
      await shot("04-provider-tested");
    });

    test("content logging on, then a key: shown once with snippets that read PERPETUO_API_KEY", async () => {
      await page.goto(`${base}${start.replace(/\/start$/, "/settings")}`);
      await page.getByLabel("Log request and response content").check();
      await page.getByRole("button", { name: "Save settings" }).click();
      await seeVisible(page.getByText("Settings saved."));

      await page.goto(`${base}${start}`);
      await page.getByRole("link", { name: "Create a key" }).click();
      await page.waitForURL(/\/keys/);
      // The form comes first, above the (empty) list.
      await seeVisible(page.getByRole("heading", { name: "Create a key" }));
      await page.getByLabel("Name").fill("first-key");
      await page.getByRole("button", { name: "Create key" }).click();
      await seeVisible(page.getByRole("heading", { name: /Key first-key created/ }));
      key = await page.locator("#new-key").inputValue();
      expect(key).toMatch(/^prp_/);
      await seeText(page.locator("#snippet-env"), `export PERPETUO_API_KEY=${key}`);
      await seeText(page.locator("#snippet-curl"), "$PERPETUO_API_KEY");
      // One language at a time; opening another closes the first (no JavaScript involved).
      await page.locator("summary", { hasText: "Node (openai)" }).click();
      await seeVisible(page.locator("#snippet-node"));
      expect(await page.locator("#snippet-curl").isVisible()).toBe(false);
      await seeVisible(page.locator('[data-copy="#snippet-node"]'));
      expect(await overflow(page)).toBeLessThanOrEqual(1);
      await shot("05-key-snippets");
    });

    test("the Node snippet, run as shown, makes the first request; the checklist ticks every step", async () => {
      const code = await page.locator("#snippet-node").innerText();
      expect(code).toContain(`baseURL: "${base}/v1"`);
      expect(code).not.toContain(key);
      const out = await runNodeSnippet(code, key);
      // The mock answered with a tool call, so the snippet prints no text (null): the request went through.
      expect(out.trim()).toBe("null");
      await t.deps.logQueue.flush();
      await page.goto(`${base}${start}`);
      await seeText(page.locator(".page-header .subtitle"), "4 of 4 done");
      expect(await page.locator(".check-done").count()).toBe(4);
      expect(await overflow(page)).toBeLessThanOrEqual(1);
      await shot("06-checklist-done");
    });

    test("the request's detail reads as a conversation, with the raw body behind a toggle", async () => {
      await page.getByRole("link", { name: "Open the request" }).click();
      await page.waitForURL(/\/logs\/[^/]+$/);
      const chat = page.getByRole("list", { name: "Request messages" });
      await seeText(chat, "Hello!");
      await seeText(page.getByRole("list", { name: "Response" }), "get_weather");
      await seeText(page.locator(".tool-args"), '"city": "Paris"');
      await seeText(page.locator(".details"), "not streamed");
      expect(await page.locator(".details").innerText()).not.toContain("first token");
      const raw = page.locator("#raw-request");
      expect(await raw.isVisible()).toBe(false);
      await page.getByText("Raw request").click();
      await seeVisible(raw);
      await seeText(raw, '"messages"');
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
      await page.locator('[data-copy="#raw-request"]').click();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('"model": "gpt-4o-mini"');
      expect(await overflow(page)).toBeLessThanOrEqual(1);
      await shot("07-request-detail");
      await page.emulateMedia({ colorScheme: "dark" });
      await shot("07-request-detail-dark");
      await page.emulateMedia({ colorScheme: "light" });
    });

    test("no script errors, no CSP violations, no failed requests", () => {
      expect(problems).toEqual([]);
    });
  });

describe.skipIf(!enabled)("request detail without JavaScript", () => {
  test("the raw toggle opens, the copy buttons stay hidden and the text is selectable", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      await page.goto(`${base}/login`);
      await page.getByLabel("Email").fill("grace-1280@example.com");
      await page.getByLabel("Password").fill("correct horse battery staple");
      await page.getByRole("button", { name: "Log in" }).click();
      await page.waitForURL(/\/app/);
      await page.goto(`${base}/app`);
      await page.locator(".card-link a").first().click();
      await page.waitForURL(/\/app\/w\/[^/]+$/);
      await page.goto(`${page.url()}/logs`);
      await page.locator("table.table-logs tbody tr a.row-link").first().click();
      await page.waitForURL(/\/logs\/[^/]+$/);
      await page.getByText("Raw response").click();
      await seeVisible(page.locator("#raw-response"));
      expect(await page.locator('[data-copy="#raw-response"]').isVisible()).toBe(false);
      await screenshot(page, "firstrun-nojs-request-detail");
    } finally {
      await context.close();
    }
  });
});
