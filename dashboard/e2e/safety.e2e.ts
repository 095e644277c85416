/** Log-in errors, what unverified users may do, user text rendered as text, deep links. */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanPage, launch, logIn, newPage } from "./support/browser";
import { eventually, ingest, mails, PASSWORD, seedBarkChannel, seedEndpoint, seedRule, seedUser, stack, uniqueEmail } from "./support/env";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe("log in", () => {
  it("shows an error for a wrong password and stays on the form; the right one gets in", async () => {
    const user = await seedUser("wrongpw");
    const { page, context } = await newPage(browser);
    await page.goto("/login");
    await page.getByLabel("E-mail", { exact: true }).fill(user.email);
    await page.getByLabel("Password", { exact: true }).fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    const alert = page.locator("form").getByRole("alert");
    await alert.waitFor();
    expect((await alert.textContent())?.toLowerCase()).toMatch(/password/);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(await page.getByRole("navigation", { name: "Main" }).count()).toBe(0);

    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Home", level: 1 }).waitFor();
    expectCleanPage(page);
    await context.close();
  });

  it("a signed-out deep link goes to log in and comes back after it", async () => {
    const user = await seedUser("deeplogin");
    const { page, context } = await newPage(browser);
    await page.goto("/rules");
    await page.waitForURL("**/login");
    await page.getByLabel("E-mail", { exact: true }).fill(user.email);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Rules", level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/rules");
    await context.close();
  });
});

describe("an unverified user", () => {
  it("sees the banner, cannot create anything, and can resend the mail", async () => {
    const user = await seedUser("unverified", { verified: false });
    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);
    const banner = page.getByRole("region", { name: "E-mail verification" });
    await banner.waitFor();
    expect(await banner.textContent()).toContain(user.email);

    const quick = page.getByRole("group", { name: "Quick actions" });
    for (const name of ["New endpoint", "New channel", "New rule"]) {
      expect(await quick.getByRole("button", { name }).isDisabled(), `home: ${name}`).toBe(true);
    }
    for (const [path, name] of [
      ["/endpoints", "New endpoint"],
      ["/channels", "New channel"],
      ["/rules", "New rule"],
    ]) {
      await page.goto(path);
      await banner.waitFor();
      expect(await page.getByRole("main").getByRole("button", { name, exact: true }).isDisabled(), `${path}: ${name}`).toBe(true);
    }
    // The create forms, reached directly, refuse too.
    await page.goto("/channels/new");
    await page.getByLabel("Name", { exact: true }).waitFor();
    expect(await page.getByRole("button", { name: "Create channel" }).isDisabled()).toBe(true);
    await page.goto("/rules/new");
    await page.getByLabel("Name", { exact: true }).waitFor();
    expect(await page.getByRole("button", { name: "Create rule" }).isDisabled()).toBe(true);

    // Resend from the banner: a second mail arrives.
    const before = (await mails()).filter((m) => m.to.includes(user.email)).length;
    await banner.getByRole("button", { name: "Resend e-mail" }).click();
    await banner.getByText("Sent — check your inbox.").waitFor();
    await eventually(async () => (await mails()).filter((m) => m.to.includes(user.email)).length).toBe(before + 1);
    expectCleanPage(page);
    await context.close();
  });

  it("a used link offers a new one in place, signed out", async () => {
    const email = uniqueEmail("usedlink");
    const { page, context } = await newPage(browser);
    await page.goto("/verify-email?token=this-token-does-not-exist");
    await page.getByText(/invalid, already used or expired/).waitFor();
    // Signed out: the page asks for the address (no log-in needed).
    await page.getByLabel("E-mail", { exact: true }).fill(email);
    await page.getByRole("button", { name: "Send a new link" }).click();
    await page.getByText(/a new link is on its way/).waitFor();
    expectCleanPage(page);
    await context.close();
  });
});

describe("errors from the API", () => {
  it("land next to the field they name: channel config, and a rule draft tested on the server", async () => {
    const user = await seedUser("fielderrors");
    await seedBarkChannel(user, "Errors channel", "errors-device");
    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);

    /** The error text the input points at (aria-describedby → .field-error). */
    const errorOf = (input: ReturnType<typeof page.getByLabel>) =>
      input.evaluate((el) => {
        const ids = (el.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
        return ids.map((id) => document.getElementById(id)).find((e) => e?.classList.contains("field-error"))?.textContent ?? null;
      });

    // The Bark plugin refuses a non-http URL: `config.server_base_url`.
    await page.goto("/channels/new");
    await page.getByLabel("Name", { exact: true }).fill("Broken");
    const url = page.getByRole("textbox", { name: "Server base URL", exact: true });
    await url.fill("ftp://example.test");
    await page.getByLabel("Device key", { exact: true }).fill("k");
    await page.getByRole("button", { name: "Create channel" }).click();
    await eventually(() => errorOf(url)).toMatch(/\S/);
    expect(new URL(page.url()).pathname).toBe("/channels/new");

    // The server compiles the draft's regex: `rule.filter.body.regex`.
    await page.goto("/rules/new");
    const regex = page.getByLabel("Body matches regular expression");
    await regex.fill("(unclosed");
    await page.getByRole("button", { name: "Test draft on the server" }).click();
    await eventually(() => errorOf(regex)).toMatch(/\S/);
    await page.getByText("The server refused the draft: see the highlighted field.").waitFor();
    await eventually(() => regex.evaluate((el) => el === document.activeElement)).toBe(true);
    expectCleanPage(page);
    await context.close();
  });
});

const XSS_BODY = `<img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script>`;
const XSS_TITLE = `<b onmouseover="window.__xss=3">bold?</b>`;

describe("user-supplied text", () => {
  it("shows an HTML/script payload as literal text and never runs it", async () => {
    const user = await seedUser("xss");
    const endpoint = await seedEndpoint(user, `<i>ep</i>`);
    const id = await ingest(endpoint, {
      title: XSS_TITLE,
      body: XSS_BODY,
      tags: ["<svg/onload=window.__xss=4>"],
      extras: { note: `<iframe src="javascript:window.__xss=5"></iframe>` },
      url: "javascript:window.__xss=6",
    }).catch(async () =>
      // A javascript: URL may be refused by ingest; then send it without.
      ingest(endpoint, { title: XSS_TITLE, body: XSS_BODY, tags: ["<svg/onload=window.__xss=4>"], extras: { note: `<iframe src="javascript:window.__xss=5"></iframe>` } }),
    );

    const { page, context } = await newPage(browser);
    const imageRequests: string[] = [];
    page.on("request", (r) => {
      if (r.resourceType() === "image" && !r.url().endsWith("/favicon.svg")) imageRequests.push(r.url());
    });
    await logIn(page, user.email, user.password);

    for (const path of ["/", "/messages", `/messages/${id}`]) {
      await page.goto(path);
      await page.getByText(XSS_BODY, { exact: false }).first().waitFor();
      await page.getByText(XSS_TITLE, { exact: false }).first().waitFor();
    }
    // Detail: extras and tags as text too.
    await page.getByText(`<iframe src="javascript:window.__xss=5"></iframe>`).first().waitFor();
    await page.getByText("<svg/onload=window.__xss=4>").first().waitFor();
    // Hover the title in case it became markup.
    await page.getByText(XSS_TITLE).first().hover();

    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), "window.__xss").toBeUndefined();
    expect(await page.locator("main img[src='x'], main script, main iframe, main svg[onload], main b[onmouseover]").count()).toBe(0);
    expect(await page.locator("a[href^='javascript:']").count(), "javascript: links").toBe(0);
    expect(imageRequests, "image requests caused by the payload").toEqual([]);
    expectCleanPage(page);
    await context.close();
  });
});

describe("deep links", () => {
  it("reload on every kind of page, and unknown paths say so", async () => {
    const user = await seedUser("deeplinks");
    const endpoint = await seedEndpoint(user, "deep");
    const channel = await seedBarkChannel(user, "Deep channel", "deep-device");
    const rule = await seedRule(user, { name: "Deep rule", channel_id: channel.id, filter: {}, payload_template: { body: "{{message.body}}" } });
    const id = await ingest(endpoint, { title: "Deep title", body: "deep body" });

    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);
    const checks: [string, () => Promise<unknown>][] = [
      [`/messages/${id}`, () => page.getByRole("heading", { name: "Deep title" }).waitFor()],
      ["/rules", () => page.getByRole("link", { name: "Deep rule" }).first().waitFor()],
      [`/rules/${rule.id}`, () => page.getByRole("heading", { name: "Deep rule", level: 1 }).waitFor()],
      [`/channels/${channel.id}`, () => page.getByRole("heading", { name: "Deep channel", level: 1 }).waitFor()],
      ["/messages?priority_min=1", () => page.getByRole("link", { name: /Deep title/ }).waitFor()],
      ["/endpoints", () => page.getByText("deep", { exact: true }).first().waitFor()],
      ["/plugins", () => page.getByText("bark", { exact: true }).first().waitFor()],
      ["/account", () => page.getByRole("main").getByText(user.email).first().waitFor()],
    ];
    for (const [path, ready] of checks) {
      await page.goto(path);
      await ready();
      await page.reload();
      await ready();
      expect(`${new URL(page.url()).pathname}${new URL(page.url()).search}`).toBe(path);
    }
    // The server answers index.html for client routes with 200, but a missing asset is a real 404.
    const res = await fetch(`${stack().baseUrl}/messages/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect((await fetch(`${stack().baseUrl}/assets/missing-0000.js`)).status).toBe(404);

    await page.goto("/no/such/page");
    await page.getByRole("heading", { level: 1 }).filter({ hasText: /not found/i }).waitFor();
    expectCleanPage(page);
    await context.close();
  });
});
