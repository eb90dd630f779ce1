import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import { testApp, type TestApp } from "./app.ts";

/** The system Chromium (CI installs it with apt); CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const chromiumAvailable = (): boolean => existsSync(CHROMIUM_PATH);

/**
 * Whether the browser tests should run. Locally a missing Chromium skips them with a message; in
 * CI (CI=true) a missing Chromium is a failure, so the suite cannot silently lose its E2E tests.
 */
export function browserTestsEnabled(): boolean {
  if (chromiumAvailable()) return true;
  const message = `Chromium not found at ${CHROMIUM_PATH}: browser (E2E) tests skipped. Install it (apt-get install chromium) or set CHROMIUM_PATH.`;
  if (process.env.CI === "true") throw new Error(message);
  console.warn(`⚠ ${message}`);
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * What a browser test file shares: a test app on its own database, listening on a port, with
 * PUBLIC_URL set to it (invitation links and key snippets point here), and one Chromium.
 * close() ends the browser, then the server, then the app.
 */
export async function openBrowserApp(): Promise<{ t: TestApp; base: string; browser: Browser; close(): Promise<void> }> {
  const t = await testApp();
  const server = t.app.listen({ port: 0, hostname: "127.0.0.1" });
  const base = `http://127.0.0.1:${server.server!.port}`;
  t.deps.config.publicUrl = base;
  const browser = await launchBrowser();
  return {
    t,
    base,
    browser,
    async close() {
      await browser.close();
      await server.stop(true);
      await t.deps.gateway?.stop();
      await t.close();
    },
  };
}

const SCREENSHOT_DIR = join(import.meta.dir, "..", "..", "test-output", "screenshots");

/**
 * A full-page capture into test-output/screenshots/ and, when SCREENS_DIR is set, there too (for a
 * reviewer's copy of one run's pages).
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  // caret "initial": Playwright's caret hiding leaves style="" on an element, which htmx then copies under the CSP.
  // From the top, so the sticky top bar is where a reader expects it in a full-page capture.
  await page.evaluate(() => window.scrollTo(0, 0)).catch(() => {});
  const dirs = [SCREENSHOT_DIR, process.env.SCREENS_DIR].filter((d): d is string => !!d);
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true, caret: "initial" });
  }
  return join(SCREENSHOT_DIR, `${name}.png`);
}

/**
 * Collects what the page reports as wrong: uncaught errors, console errors (CSP violations land
 * there) and failed same-origin requests. Tests assert the list stays empty.
 */
export function watchProblems(context: BrowserContext, origin: string): string[] {
  const problems: string[] = [];
  context.on("page", (page) => attach(page));
  function attach(page: Page) {
    page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error")
        problems.push(`console: ${msg.text()} (${page.url()} ${msg.location().url}:${msg.location().lineNumber})`);
    });
    page.on("requestfailed", (req) => {
      if (req.url().startsWith(origin)) problems.push(`requestfailed: ${req.url()} ${req.failure()?.errorText ?? ""}`);
    });
  }
  for (const page of context.pages()) attach(page);
  return problems;
}

/* Bun's expect has no auto-waiting locator matchers (those live in @playwright/test): these poll. */

async function poll(check: () => Promise<boolean>, describe: () => Promise<string>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // element not there yet
    }
    if (Date.now() > end) throw new Error(await describe());
    await new Promise((r) => setTimeout(r, 50));
  }
}

const textOf = async (l: Locator) => ((await l.count()) ? await l.first().innerText({ timeout: 500 }) : "<no element>");

/** Waits until the (first) element's visible text contains `expected`. */
export function seeText(locator: Locator, expected: string | RegExp, timeoutMs = 5000): Promise<void> {
  const matches = (s: string) => (typeof expected === "string" ? s.includes(expected) : expected.test(s));
  return poll(
    async () => matches(await locator.first().innerText({ timeout: 500 })),
    async () => `expected text ${String(expected)} in ${locator}, got: ${await textOf(locator).catch(() => "<none>")}`,
    timeoutMs,
  );
}

/** Waits until the (first) element's text is exactly `expected` (trimmed). */
export function seeExactText(locator: Locator, expected: string, timeoutMs = 5000): Promise<void> {
  return poll(
    async () => (await locator.first().innerText({ timeout: 500 })).trim() === expected,
    async () => `expected exactly "${expected}" in ${locator}, got: ${await textOf(locator).catch(() => "<none>")}`,
    timeoutMs,
  );
}

export function seeVisible(locator: Locator, timeoutMs = 5000): Promise<void> {
  return locator.first().waitFor({ state: "visible", timeout: timeoutMs });
}

export function seeCount(locator: Locator, n: number, timeoutMs = 5000): Promise<void> {
  return poll(
    async () => (await locator.count()) === n,
    async () => `expected ${n} of ${locator}, found ${await locator.count()}`,
    timeoutMs,
  );
}
