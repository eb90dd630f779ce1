/**
 * The dashboard in a real browser (headless Chromium via playwright-core), against the real app
 * listening on a port and an OpenAI-shaped mock upstream: sign up, create a workspace, add a
 * provider, mint a key, call the gateway with the official OpenAI SDK, and find the request in
 * Logs (with its attempt trail) and Usage. Then the core forms again with JavaScript disabled.
 * Screenshots of every page land in test-output/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { TestApp } from "./support/app.ts";
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";
import {
  browserTestsEnabled,
  screenshot,
  openBrowserApp,
  seeCount,
  seeExactText,
  seeText,
  seeVisible,
  watchProblems,
} from "./support/browser.ts";

const enabled = browserTestsEnabled();
const UPSTREAM_KEY = "sk-e2e-upstream-0123456789abcdef";

let t: TestApp;
let base = "";
let browser: Browser;
let upstream: MockUpstream;
let close = async () => {};
beforeAll(async () => {
  if (!enabled) return;
  upstream = await startMockUpstream("openai", { expectedKey: UPSTREAM_KEY });
  ({ t, base, browser, close } = await openBrowserApp());
});
afterAll(async () => {
  await close();
  await upstream?.stop();
});

/** Logs are written by a background queue; push them to the database before looking. */
async function flushLogs() {
  await t.deps.logQueue.flush();
}

async function callGateway(key: string, text: string) {
  const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0, timeout: 20_000 });
  const reply = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: text }] });
  return reply;
}

/** What sticks out of the screen, outside any scrolling box. */
function widest(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll("body *"))
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .filter((e) => {
        for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
          if (getComputedStyle(p).overflowX !== "visible") return false;
        }
        return true;
      })
      .slice(0, 5)
      .map((e) => `${e.tagName}.${e.className} (${Math.round(e.getBoundingClientRect().right)}px)`),
  );
}

/** The workspace nav's items that are not wholly on screen (clipped at a side, or scrolled out of their bar). */
function navOffScreen(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll(".sidenav a"))
      .filter((a) => {
        const r = a.getBoundingClientRect();
        const bar = a.closest(".sidenav")!.getBoundingClientRect();
        return r.width === 0 || r.left < Math.max(0, bar.left) || r.right > Math.min(document.documentElement.clientWidth, bar.right);
      })
      .map((a) => a.textContent ?? ""),
  );
}

const unexpected = (problems: string[]) => problems.filter((p) => !/status of 422/.test(p));

describe.skipIf(!enabled)("dashboard in Chromium, JavaScript on", () => {
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let workspaceUrl = "";
  let gatewayKey = "";

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    problems = watchProblems(context, base);
    page = await context.newPage();
  });
  afterAll(() => context?.close());

  test("an anonymous visit to /app lands on the login page with next", async () => {
    await page.goto(`${base}/app`);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/app");
    await screenshot(page, "01-login");
  });

  test("signing up shows inline errors, then creates the account and opens the dashboard", async () => {
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.waitForURL(/\/signup/);
    await page.getByLabel("Email").fill("ada@example.com");
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    await seeText(page.locator(".field-error").first(), "at least 10 characters");
    expect(await page.getByLabel("Email").inputValue()).toBe("ada@example.com");
    await screenshot(page, "02-signup-errors");

    await page.getByLabel("Your name").fill("Ada");
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Create account" }).click();
    // Sign-up makes a first workspace and opens its checklist (e2e-firstrun.test.ts follows that path).
    await page.waitForURL(/\/app\/w\/[^/]+\/start$/);
    await seeExactText(page.getByRole("heading", { level: 1 }), "Get started");
    await page.goto(`${base}/app`);
    await seeExactText(page.getByRole("heading", { level: 1 }), "Workspaces");
    await screenshot(page, "03-workspaces");
  });

  test("creating a workspace opens its overview with a getting-started checklist", async () => {
    await page.getByLabel("Name").fill("Acme <Prod>");
    await page.getByRole("button", { name: "Create workspace" }).click();
    await page.waitForURL(/\/app\/w\/[^/]+$/);
    workspaceUrl = new URL(page.url()).pathname;
    await seeExactText(page.getByRole("heading", { level: 1 }), "Acme <Prod>");
    await seeVisible(page.getByRole("heading", { name: "Get started" }));
    expect(await page.title()).toContain("Acme <Prod>");
    await screenshot(page, "04-overview-new");
  });

  test("adding a provider: the type select swaps its fields; the test button answers inline", async () => {
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Providers" }).click();
    await page.waitForURL(`${base}${workspaceUrl}/providers`);
    await seeVisible(page.getByText("No providers yet"));
    await screenshot(page, "05-providers-empty");

    await page.getByRole("link", { name: "Add your first provider" }).click();
    await page.waitForURL(/\/providers\/new$/);
    // Type first, then that type's form; changing the type there swaps in its own hints.
    await page.getByRole("radio", { name: /^OpenAI Key like/ }).check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(/\/providers\/new\?type=openai$/);
    await page.getByLabel("Type").selectOption("openai_compatible");
    await seeText(page.locator("#provider-type-fields"), "Required: the server's address");
    await page.getByLabel("Type").selectOption("openai");
    await seeText(page.locator("#provider-type-fields"), "leave empty to use https://api.openai.com/v1");

    // A validation error comes back inline, with the entered values kept (but never the key).
    await page.getByLabel("Name").fill("bad name!");
    await page.getByLabel("Base URL").fill(upstream.url);
    await page.getByLabel("API key").fill(UPSTREAM_KEY);
    await page.getByLabel("Models").fill("gpt-4o-mini, gpt-4o");
    await page.getByRole("button", { name: "Add provider" }).click();
    await seeText(page.locator(".field-invalid").first(), /may contain only letters/i);
    expect(await page.getByLabel("Base URL").inputValue()).toBe(upstream.url);
    expect(await page.getByLabel("API key").inputValue()).toBe("");
    expect(new URL(page.url()).pathname).toMatch(/\/providers(\/new)?$/);
    await screenshot(page, "06-provider-form-errors");

    await page.getByLabel("Name").fill("openai-main");
    await page.getByLabel("API key").fill(UPSTREAM_KEY);
    await page.getByRole("button", { name: "Add provider" }).click();
    await page.waitForURL(/\/providers\?done=created$/);
    const row = page.getByRole("row", { name: /openai-main/ });
    await seeText(row, "••••cdef");
    await seeText(row, "gpt-4o-mini");
    expect(await page.content()).not.toContain(UPSTREAM_KEY);

    await row.getByRole("button", { name: "Test openai-main" }).click();
    await seeText(row.locator(".test-result"), "Connected");
    await screenshot(page, "07-providers");
  });

  test("creating a key shows it once with copy buttons and working snippets", async () => {
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "API keys" }).click();
    await page.waitForURL(`${base}${workspaceUrl}/keys`);
    await page.getByLabel("Name").fill("backend");
    await page.getByRole("button", { name: "Create key" }).click();
    await seeVisible(page.getByRole("heading", { name: /Key backend created/ }));
    gatewayKey = await page.locator("#new-key").inputValue();
    expect(gatewayKey).toMatch(/^prp_[0-9A-Za-z]{43,}$/);
    await seeText(page.locator("#snippet-curl"), `${base}/v1/chat/completions`);
    // Closed until its language is picked: its text is there all the same.
    expect(await page.locator("#snippet-node").textContent()).toContain(`baseURL: "${base}/v1"`);
    await screenshot(page, "08-key-created");

    // The copy button is wired by public/app.js (no inline handlers).
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    await page.getByRole("button", { name: "Copy key" }).click();
    await seeVisible(page.getByRole("button", { name: /Copied/ }));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(gatewayKey);

    // Reloading the list does not show the key again.
    await page.reload();
    expect(await page.content()).not.toContain(gatewayKey);
  });

  test("a request through the gateway with the OpenAI SDK appears in Logs with its attempt trail", async () => {
    const reply = await callGateway(gatewayKey, "Hello from the browser test");
    expect(reply.choices[0].message.content).toContain("Hello from the browser test");
    await flushLogs();

    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Logs" }).click();
    await page.waitForURL(`${base}${workspaceUrl}/logs`);
    const row = page.locator("table.table-logs tbody tr").first();
    await seeText(row, "gpt-4o-mini");
    await seeText(row, "openai-main");
    await seeText(row, "200");
    await screenshot(page, "09-logs");

    // Filters live in the URL (pushed into history).
    await page.getByLabel("Status").selectOption("error");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/status=error/);
    await seeVisible(page.getByText("No requests match these filters"));
    await page.goBack();
    await page.waitForURL(`${base}${workspaceUrl}/logs`, { waitUntil: "commit" });
    await seeText(page.locator("table.table-logs tbody tr").first(), "gpt-4o-mini");

    // Times say their zone and seconds; the request id is shortened, whole in the title.
    const first = page.locator("table.table-logs tbody tr").first();
    await seeText(first.locator('[data-label="Time"]'), /\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}:\d{2} UTC/);
    await seeText(first.locator('[data-label="Stream"]'), "No");
    expect(await first.locator('[data-label="Request ID"]').getAttribute("title")).toMatch(/^req_[0-9a-f]{32}$/);
    // A click anywhere in the row (here: its cost) opens the detail, like the link in its first cell.
    await first.locator('[data-label="Cost"]').click();
    await page.waitForURL(/\/logs\/[^/]+$/);
    await seeVisible(page.getByRole("heading", { name: "Attempts" }));
    await seeCount(page.locator(".attempts li"), 1);
    await seeText(page.locator(".attempts li").first(), "openai-main");
    await screenshot(page, "10-log-detail");
  });

  test("Usage and Overview count the request; charts are accessible SVG", async () => {
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Usage" }).click();
    await page.waitForURL(`${base}${workspaceUrl}/usage`);
    await seeText(page.locator(".stat").first(), "1");
    const chart = page.getByRole("img", { name: /Requests per day/ });
    await seeVisible(chart);
    await seeText(page.getByRole("region", { name: "By model" }), "gpt-4o-mini");
    await screenshot(page, "11-usage");

    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Overview" }).click();
    await page.waitForURL(`${base}${workspaceUrl}`);
    await seeText(page.getByText("Requests today").locator(".."), "1");
    await screenshot(page, "12-overview");
  });

  test("revoking a key asks for confirmation inline, then the gateway refuses it", async () => {
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "API keys" }).click();
    await page.waitForURL(`${base}${workspaceUrl}/keys`);
    await page.getByRole("link", { name: "Revoke backend" }).click();
    const dialog = page.getByRole("alertdialog");
    await seeText(dialog, "Revoke key backend?");
    expect(new URL(page.url()).pathname).toBe(`${workspaceUrl}/keys`);
    await screenshot(page, "13-key-revoke-confirm");
    await dialog.getByRole("button", { name: "Revoke key" }).click();
    await seeText(page.getByRole("row", { name: /backend/ }), "revoked");
    await expect(callGateway(gatewayKey, "after revoke")).rejects.toMatchObject({ status: 401 });
  });

  test("settings save and the workspace switcher lists the workspace", async () => {
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Settings" }).click();
    await page.waitForURL(`${base}${workspaceUrl}/settings`);
    await page.getByLabel("Keep logs for (days)").fill("0");
    await page.getByRole("button", { name: "Save settings" }).click();
    await seeText(page.locator(".field-error"), "1 to 3650");
    await page.getByLabel("Keep logs for (days)").fill("14");
    await page.getByLabel("Log request and response content").check();
    await page.getByRole("button", { name: "Save settings" }).click();
    await seeVisible(page.getByText("Settings saved."));
    expect(await page.getByLabel("Keep logs for (days)").inputValue()).toBe("14");
    await screenshot(page, "14-settings");

    await page.locator(".switcher summary").click();
    await seeText(page.locator(".switcher-menu"), "Acme <Prod>");
    await page.keyboard.press("Escape");
    await seeCount(page.locator(".switcher[open]"), 0);
  });

  test("back and forward restore pages swapped by htmx", async () => {
    // htmx restores history itself (no page load event): wait for the URL to commit.
    await page.goBack();
    await page.waitForURL(/\/keys/, { waitUntil: "commit" });
    await seeExactText(page.getByRole("heading", { level: 1 }), "API keys");
    await page.goForward();
    await page.waitForURL(/\/settings/, { waitUntil: "commit" });
    await seeExactText(page.getByRole("heading", { level: 1 }), "Settings");
  });

  test("pages fit a phone screen: table rows become labelled cards", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [path, name] of [
        ["/providers", "15-mobile-providers"],
        ["/keys", "15-mobile-keys"],
        ["/logs", "16-mobile-logs"],
        ["/members", "16-mobile-members"],
        ["/usage", "16-mobile-usage"],
        ["", "17-mobile-overview"],
      ] as const) {
        await page.goto(`${base}${workspaceUrl}${path}`);
        await screenshot(page, name);
        await screenshot(page, `page-${path.slice(1) || "overview"}-390x844`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        if (overflow > 1) throw new Error(`${path || "/"} is ${overflow}px wider than the screen: ${(await widest(page)).join(", ")}`);
        // Every section of the nav is in sight, none scrolled away or cut mid-word.
        expect(await navOffScreen(page)).toEqual([]);
        if (!path) continue;
        // No table scrolls sideways inside its box either: every cell is on screen.
        const inner = await page.evaluate(() =>
          Array.from(document.querySelectorAll(".table-wrap")).map((w) => w.scrollWidth - w.clientWidth),
        );
        expect(inner.every((n) => n <= 1)).toBe(true);
        // Each cell shows its column label before its value (the header row is hidden from sight only).
        const cells = await page.evaluate(() =>
          Array.from(document.querySelectorAll(".table-cards tbody tr:first-child > [data-label]")).map((c) => ({
            label: c.getAttribute("data-label"),
            shown: getComputedStyle(c, "::before").content,
            width: c.getBoundingClientRect().width,
          })),
        );
        expect(cells.length).toBeGreaterThan(3);
        for (const c of cells) {
          expect(c.shown).toBe(JSON.stringify(c.label));
          expect(c.width).toBeGreaterThan(300);
        }
        expect(await page.getByRole("columnheader").count()).toBeGreaterThan(3);
      }
      // A log card starts with what a reader scans for: status, then model, then cost.
      await page.goto(`${base}${workspaceUrl}/logs`);
      const row = page.locator("table.table-logs tbody tr").first();
      const tops = await Promise.all(
        ["Status", "Model", "Cost", "Time", "Request ID"].map((l) =>
          row.locator(`[data-label="${l}"]`).evaluate((e) => e.getBoundingClientRect().top),
        ),
      );
      expect(tops).toEqual([...tops].sort((x, y) => x - y));
      // The request detail fits too.
      await row.locator('[data-label="Model"]').click();
      await page.waitForURL(/\/logs\/[^/]+$/);
      await screenshot(page, "page-log-detail-390x844");
      expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(1);
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  test("at 1280×800 every table fits its box: no row button is cut off", async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    try {
      for (const path of ["/providers", "/keys", "/logs"]) {
        await page.goto(`${base}${workspaceUrl}${path}`);
        await screenshot(page, `page-${path.slice(1)}-1280x800`);
        expect(await navOffScreen(page)).toEqual([]);
        const box = await page.evaluate(() => {
          const wrap = document.querySelector(".table-wrap")!;
          const r = wrap.getBoundingClientRect();
          return { left: r.left, right: r.right, scroll: wrap.scrollWidth - wrap.clientWidth };
        });
        expect(box.scroll).toBeLessThanOrEqual(1);
        const buttons = await page.evaluate(() =>
          Array.from(document.querySelectorAll(".table .actions .btn"))
            .map((b) => b.getBoundingClientRect())
            .map((r) => ({ left: r.left, right: r.right })),
        );
        if (path !== "/logs") expect(buttons.length).toBeGreaterThan(1);
        for (const b of buttons) {
          expect(b.left).toBeGreaterThanOrEqual(box.left);
          expect(b.right).toBeLessThanOrEqual(box.right);
        }
      }
      await page.locator("table.table-logs tbody tr").first().getByRole("link").click();
      await page.waitForURL(/\/logs\/[^/]+$/);
      await seeText(page.locator(".details"), /\d{2}:\d{2}:\d{2} UTC/);
      await screenshot(page, "page-log-detail-1280x800");
      await page.goto(`${base}${workspaceUrl}/members`);
      await screenshot(page, "page-members-1280x800");
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  test("dark mode follows the system setting, at desktop and phone size", async () => {
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const luminance = (rgb: string) => {
      const [r, g, b] = rgb.match(/\d+/g)!.map(Number);
      return (0.2126 * r! + 0.7152 * g! + 0.0722 * b!) / 255;
    };
    await page.goto(`${base}${workspaceUrl}/logs`);
    expect(luminance(await background())).toBeGreaterThan(0.8);
    const detail = new URL(
      await page
        .locator("table.table-logs tbody tr a.row-link")
        .first()
        .evaluate((a) => (a as HTMLAnchorElement).href),
    ).pathname;
    await page.emulateMedia({ colorScheme: "dark" });
    try {
      for (const [width, height] of [
        [1280, 800],
        [390, 844],
      ]) {
        await page.setViewportSize({ width, height });
        for (const [path, name] of [
          ["", "overview"],
          ["/logs", "logs"],
          ["/usage", "usage"],
          ["/providers", "providers"],
          ["/health", "health"],
          ["/start", "start"],
          ["/providers/new", "provider-type"],
          ["/providers/new?type=openai", "provider-form"],
          [detail.slice(workspaceUrl.length), "log-detail"],
        ]) {
          await page.goto(`${base}${workspaceUrl}${path}`);
          expect(luminance(await background())).toBeLessThan(0.2);
          // Text stays readable on the dark background.
          expect(luminance(await page.evaluate(() => getComputedStyle(document.querySelector("h1")!).color))).toBeGreaterThan(0.7);
          await screenshot(page, `2x-dark-${width}-${name}`);
          // Nothing sticks out sideways and every nav item is in sight, at both sizes.
          expect(await widest(page)).toEqual([]);
          expect(await navOffScreen(page)).toEqual([]);
        }
      }
    } finally {
      await page.emulateMedia({ colorScheme: "light" });
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  test("a focused field is not hidden under the sticky top bar (WCAG 2.2, 2.4.11)", async () => {
    // Short enough that the form scrolls: focusing a field above the fold scrolls it into view.
    await page.setViewportSize({ width: 1280, height: 400 });
    await page.goto(`${base}${workspaceUrl}/providers/new?type=openai`);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(100);
    const field = page.locator("input[name=name]");
    await field.focus();
    const [barBottom, fieldTop] = await Promise.all([
      page.evaluate(() => document.querySelector(".topbar, header")!.getBoundingClientRect().bottom),
      field.evaluate((e) => e.getBoundingClientRect().top),
    ]);
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(fieldTop).toBeGreaterThanOrEqual(barBottom);
  });

  test("nothing broke along the way: no script errors, no CSP violations, no failed requests", () => {
    expect(unexpected(problems)).toEqual([]);
  });
});

describe.skipIf(!enabled)("dashboard in Chromium, JavaScript off", () => {
  let context: BrowserContext;
  let page: Page;
  let workspaceUrl = "";

  beforeAll(async () => {
    context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
  });
  afterAll(() => context?.close());

  test("sign up with a plain form post", async () => {
    await page.goto(`${base}/signup`);
    await page.getByLabel("Email").fill("nojs@example.com");
    await page.getByLabel("Password").fill("no javascript here");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(/\/app\/w\/[^/]+\/start$/);
    await seeExactText(page.getByRole("heading", { level: 1 }), "Get started");
    await page.goto(`${base}/app`);
    await seeExactText(page.getByRole("heading", { level: 1 }), "Workspaces");
  });

  test("create a workspace, with an inline error first", async () => {
    await page.getByRole("button", { name: "Create workspace" }).click();
    await seeText(page.locator(".field-error"), "Must not be empty");
    await page.getByLabel("Name").fill("No-JS workspace");
    await page.getByRole("button", { name: "Create workspace" }).click();
    await page.waitForURL(/\/app\/w\/[^/]+$/);
    workspaceUrl = new URL(page.url()).pathname;
    await seeExactText(page.getByRole("heading", { level: 1 }), "No-JS workspace");
  });

  test("add a provider: every field is there with hints that cover all types", async () => {
    await page.goto(`${base}${workspaceUrl}/providers/new`);
    // Without JavaScript the type is a step of its own: the next page is that type's form.
    await page.getByRole("radio", { name: /^OpenAI-compatible/ }).check();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL(/type=openai_compatible$/);
    await seeText(page.locator("#provider-type-fields"), "Required: the server's address");
    await page.getByLabel("Name").fill("local-compatible");
    await page.getByRole("button", { name: "Add provider" }).click();
    // No base URL for a type without a default: the server says so next to the field.
    await seeText(page.locator(".field-invalid"), "Base URL");
    await page.getByLabel("Base URL").fill(upstream.url);
    await page.getByLabel("API key").fill(UPSTREAM_KEY);
    await page.getByRole("button", { name: "Add provider" }).click();
    await page.waitForURL(/\/providers\?done=created$/);
    await seeText(page.getByRole("row", { name: /local-compatible/ }), "OpenAI-compatible");
    await screenshot(page, "18-nojs-providers");

    // "Test" without JavaScript re-renders the page with the result in the row.
    await page.getByRole("button", { name: "Test local-compatible" }).click();
    await seeText(page.locator(".test-result"), "Connected");
  });

  test("create a key and use it", async () => {
    await page.goto(`${base}${workspaceUrl}/keys`);
    await page.getByLabel("Name").fill("nojs-key");
    await page.getByRole("button", { name: "Create key" }).click();
    const key = await page.locator("#new-key").inputValue();
    expect(key).toMatch(/^prp_/);
    await screenshot(page, "19-nojs-key-created");
    const reply = await callGateway(key, "no-JS key works");
    expect(reply.choices[0].message.content).toContain("no-JS key works");
    await flushLogs();
    await page.goto(`${base}${workspaceUrl}/logs`);
    await seeText(page.locator("table.table-logs tbody tr").first(), "local-compatible");
  });

  test("delete a provider through the confirmation page", async () => {
    await page.goto(`${base}${workspaceUrl}/providers`);
    await page.getByRole("link", { name: "Delete local-compatible" }).click();
    await page.waitForURL(/\/delete$/);
    await screenshot(page, "20-nojs-confirm-delete");
    await page.getByRole("button", { name: "Delete provider" }).click();
    await page.waitForURL(/\/providers\?done=deleted$/);
    await seeVisible(page.getByText("No providers yet"));
  });

  test("log out", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(`${base}/login`);
    await page.goto(`${base}${workspaceUrl}`);
    expect(new URL(page.url()).pathname).toBe("/login");
  });
});

describe.skipIf(!enabled)("invitations in Chromium", () => {
  let owner: BrowserContext;
  let invitee: BrowserContext;
  let problems: string[];
  afterAll(async () => {
    await owner?.close();
    await invitee?.close();
    t.deps.config.signup = "open";
  });

  test("an owner invites with JavaScript on (link shown once, revoke inline); the invitee signs up from the link with JavaScript off", async () => {
    owner = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    problems = watchProblems(owner, base);
    const page = await owner.newPage();
    await page.goto(`${base}/signup`);
    await page.getByLabel("Email").fill("inviting-owner@example.com");
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(/\/start$/);
    await page.goto(`${base}/app`);
    await page.getByLabel("Name").fill("Invited team");
    await page.getByRole("button", { name: "Create workspace" }).click();
    await page.waitForURL(/\/app\/w\/[^/]+$/);
    const workspaceUrl = new URL(page.url()).pathname;
    await page.goto(`${base}${workspaceUrl}/members`);

    // Only invitations from now on: the link is what lets the invitee in.
    t.deps.config.signup = "invite";
    const panel = page.locator("#invitations");
    await panel.getByLabel("Email").fill("not an address");
    await panel.getByRole("button", { name: "Invite" }).click();
    await seeText(panel.locator(".field-error"), "valid email");
    await panel.getByLabel("Email").fill("to-revoke@example.com");
    await panel.getByRole("button", { name: "Invite" }).click();
    await seeText(page.locator("#invitations"), "shown only once");
    await page.locator("#invitations").getByLabel("Email").fill("invitee@example.com");
    await page.locator("#invitations").getByLabel("Role").selectOption("admin");
    await page.locator("#invitations").getByRole("button", { name: "Invite" }).click();
    await seeText(page.locator("#invitations .panel-highlight"), "invitee@example.com");
    const link = await page.locator("#invite-link").inputValue();
    expect(link).toStartWith(`${base}/invite/`);
    await screenshot(page, "30-invitation-created");

    await page.getByRole("button", { name: "Revoke the invitation of to-revoke@example.com" }).click();
    await seeText(page.locator("#invitations"), "Invitation revoked");
    await seeCount(page.getByRole("row", { name: /to-revoke@example.com/ }), 0);
    await seeCount(page.getByRole("row", { name: /invitee@example.com/ }), 1);

    invitee = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 860 } });
    const other = await invitee.newPage();
    await other.goto(link);
    await seeExactText(other.getByRole("heading", { level: 1 }), "Join Invited team");
    await screenshot(other, "31-invitation-signup");
    await other.getByLabel("Password").fill("invited and accepted");
    await other.getByRole("button", { name: "Create account and join" }).click();
    await other.waitForURL(`${base}${workspaceUrl}`);
    await seeExactText(other.getByRole("heading", { level: 1 }), "Invited team");
    await other.goto(`${base}/signup`);
    await seeText(other.getByRole("heading", { level: 1 }), "Accounts are by invitation");
    expect(unexpected(problems)).toEqual([]);
  }, 120_000);
});
