/**
 * The Members page in headless Chromium against the real app on a port: an owner changes a role,
 * removes someone through the confirmation card and hands the workspace over with JavaScript on;
 * a member leaves with JavaScript off. Screenshots of the page at 1280×800 and 390×844 go to
 * test-output/screenshots/ (and SCREENS_DIR when it is set).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { TestApp } from "./support/app.ts";
import { browserTestsEnabled, screenshot, seeCount, seeExactText, seeText, openBrowserApp, watchProblems } from "./support/browser.ts";

const enabled = browserTestsEnabled();
const PASSWORD = "correct horse battery";

let t: TestApp;
let base = "";
let browser: Browser;
let close = async () => {};
beforeAll(async () => {
  if (enabled) ({ t, base, browser, close } = await openBrowserApp());
});
afterAll(() => close());

async function signIn(context: BrowserContext, email: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${base}/app`);
  return page;
}

describe.skipIf(!enabled)("the Members page in Chromium", () => {
  const contexts: BrowserContext[] = [];
  afterAll(async () => {
    for (const c of contexts) await c.close();
  });

  test("an owner changes a role, removes a member after confirming and hands the workspace over; a member leaves without JavaScript", async () => {
    const owner = await t.signup("owner@example.com", PASSWORD);
    const ws = await t.workspace(owner.token, "Crew <One>");
    const people: Record<string, string> = {};
    for (const [email, name, role] of [
      ["ada@example.com", "Ada Lovelace", "admin"],
      ["grace@example.com", "Grace Hopper", "member"],
      ["linus@example.com", null, "member"],
      ["alan@example.com", "Alan Turing", "member"],
    ] as const) {
      const u = await t.signup(email, PASSWORD);
      if (name) await t.sql`update users set name = ${name} where id = ${u.user.id}`;
      await t.sql`insert into workspace_members (workspace_id, user_id, role) values (${ws.id}, ${u.user.id}, ${role})`;
      people[email] = u.user.id;
    }
    await t.call("POST", `/workspaces/${ws.id}/invitations`, {
      token: owner.token,
      body: { email: "pending@example.com", role: "member" },
    });

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const problems = watchProblems(context, base);
    const page = await signIn(context, owner.email);
    await page.goto(`${base}/app/w/${ws.id}`);
    await page.getByRole("navigation", { name: "Workspace" }).getByRole("link", { name: "Members" }).click();
    await page.waitForURL(`${base}/app/w/${ws.id}/members`);
    await seeExactText(page.getByRole("heading", { level: 1 }), "Members");
    await seeCount(page.getByRole("region", { name: "Members" }).getByRole("row"), 6);
    await screenshot(page, "members-1280x800");
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, "members-390x844");
    // On a phone the table scrolls inside its box; the page itself does not scroll sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.getByLabel("Role of grace@example.com", { exact: true }).selectOption("admin");
    await page.getByRole("button", { name: "Change the role of grace@example.com" }).click();
    await seeText(page.locator(".alert-success"), "Role changed.");
    expect((await t.sql`select role from workspace_members where user_id = ${people["grace@example.com"]!}`)[0]!.role).toBe("admin");

    await page.getByRole("link", { name: "Remove linus@example.com" }).click();
    const dialog = page.getByRole("alertdialog");
    await seeText(dialog, "Remove linus@example.com?");
    await screenshot(page, "members-remove-confirm-1280x800");
    await dialog.getByRole("button", { name: "Remove member" }).click();
    await seeText(page.locator(".alert-success"), "Member removed");
    await seeCount(page.getByRole("row", { name: /linus@example.com/ }), 0);

    await page.getByRole("link", { name: "Transfer ownership to ada@example.com" }).click();
    await seeText(page.getByRole("alertdialog"), "Make ada@example.com the owner?");
    await page.getByRole("alertdialog").getByRole("button", { name: "Transfer ownership" }).click();
    await seeText(page.locator(".alert-success"), "Ownership transferred");
    // An admin now: no more Make owner buttons, and no control over the new owner's row.
    await seeCount(page.getByRole("link", { name: /Transfer ownership/ }), 0);
    await seeCount(page.getByLabel("Role of ada@example.com", { exact: true }), 0);
    await screenshot(page, "members-after-transfer-1280x800");
    expect(problems).toEqual([]);

    const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    contexts.push(noJs);
    const alan = await signIn(noJs, "alan@example.com");
    await alan.goto(`${base}/app/w/${ws.id}/members`);
    await seeCount(alan.getByRole("link", { name: /^Remove / }), 0);
    await alan.getByRole("link", { name: "Leave this workspace" }).first().click();
    await alan.waitForURL(`${base}/app/w/${ws.id}/leave`);
    await seeExactText(alan.getByRole("heading", { level: 1 }), "Leave this workspace?");
    await alan.getByRole("button", { name: "Leave workspace" }).click();
    await alan.waitForURL(`${base}/app`);
    await alan.goto(`${base}/app/w/${ws.id}/members`);
    await seeText(alan.getByRole("heading", { level: 1 }), "Not found");
  }, 120_000);
});
