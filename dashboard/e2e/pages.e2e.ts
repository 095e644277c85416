/**
 * Every main page at 1280 px and at 390 px: a full-page screenshot for review
 * (e2e/screenshots/<width>-<page>.png) and no horizontal overflow; the top bar
 * on one line from 1280 px down to 390 px.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DESKTOP, expectCleanPage, horizontalOverflow, launch, logIn, newPage, PHONE, shot } from "./support/browser";
import {
  deliveriesOf,
  eventually,
  ingest,
  seedBarkChannel,
  seedEndpoint,
  seedRule,
  seedUser,
  waitFor,
  type Seeded,
} from "./support/env";
import { FAILING_DEVICE_KEY } from "./support/stack";

let browser: Browser;
let user: Seeded;
let ids: { message: string; channel: string; rule: string };

beforeAll(async () => {
  browser = await launch();
  // A user with a little of everything, so no page is just an empty state.
  user = await seedUser("pages");
  const backups = await seedEndpoint(user, "backups");
  const ci = await seedEndpoint(user, "ci");
  const phone = await seedBarkChannel(user, "My iPhone", "pages-device");
  const ipad = await seedBarkChannel(user, "Old iPad", FAILING_DEVICE_KEY);
  const rule = await seedRule(user, {
    name: "Disk alerts to my phone",
    channel_id: phone.id,
    filter: { body: { contains: ["disk"] }, priority: { min: 3 }, tags: ["ops"] },
    payload_template: { title: "{{message.title}}", body: "{{message.body}}", group: "{{message.group}}" },
  });
  await seedRule(user, {
    name: "CI failures to the iPad",
    channel_id: ipad.id,
    filter: { ingest_endpoint_ids: [ci.id] },
    payload_template: { title: "CI: {{message.title}}", body: "{{message.body}}" },
  });
  const sent = [
    await ingest(backups, { title: "Nightly backup finished", body: "412 GB in 38 min, 0 errors", priority: 2, tags: ["backup"], group: "nas" }),
    await ingest(ci, { title: "Build #1841 failed", body: "tests/api/rules.rs: 2 failures", priority: 4, tags: ["ci"], group: "main" }),
    await ingest(backups, {
      title: "Disk almost full",
      body: "/dev/sda1 on nas is 91% full — clean up the old snapshots or the nightly disk backup will fail",
      priority: 5,
      tags: ["ops", "disk"],
      group: "servers",
      url: "https://nas.example/storage",
      extras: { host: "nas", mount: "/dev/sda1" },
    }),
    await ingest(backups, { body: "plain text without a title, priority 3, a long unbroken token: " + "x".repeat(120) }),
  ];
  ids = { message: sent[2], channel: phone.id, rule: rule.id };
  // Let the worker finish (one sent, one failed permanently) so the pages show final states.
  for (const id of sent) {
    await waitFor(
      `deliveries of message ${id} to settle`,
      async () => (await deliveriesOf(user, id)).every((d) => d.status === "sent" || d.status === "failed"),
      30_000,
    );
  }
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

interface PageCase {
  name: string;
  path: () => string;
  ready: (page: Page) => Promise<unknown>;
  signedOut?: boolean;
}

const PAGES: PageCase[] = [
  { name: "login", path: () => "/login", ready: (p) => p.getByRole("heading", { name: "Log in" }).waitFor(), signedOut: true },
  { name: "signup", path: () => "/signup", ready: (p) => p.getByRole("heading", { name: "Create an account" }).waitFor(), signedOut: true },
  {
    name: "verify-email-failed",
    path: () => "/verify-email?token=expired-or-used",
    ready: (p) => p.getByRole("button", { name: "Send a new link" }).waitFor(),
    signedOut: true,
  },
  { name: "home", path: () => "/", ready: (p) => p.getByRole("link", { name: /Disk almost full/ }).first().waitFor() },
  { name: "messages", path: () => "/messages", ready: (p) => p.getByRole("link", { name: /Build #1841 failed/ }).waitFor() },
  {
    name: "message-detail",
    path: () => `/messages/${ids.message}`,
    ready: (p) => p.getByRole("listitem", { name: "Delivery to My iPhone" }).getByTestId("delivery-status").getByText("sent").waitFor(),
  },
  { name: "deliveries", path: () => "/deliveries", ready: (p) => p.getByText("Old iPad").first().waitFor() },
  { name: "endpoints", path: () => "/endpoints", ready: (p) => p.getByText("backups", { exact: true }).first().waitFor() },
  { name: "channels", path: () => "/channels", ready: (p) => p.getByText("Old iPad").first().waitFor() },
  { name: "channel-new", path: () => "/channels/new", ready: (p) => p.getByRole("textbox", { name: "Server base URL", exact: true }).waitFor() },
  { name: "channel-edit", path: () => `/channels/${ids.channel}`, ready: (p) => p.getByRole("button", { name: "Send test notification" }).waitFor() },
  { name: "rules", path: () => "/rules", ready: (p) => p.getByRole("link", { name: "CI failures to the iPad" }).first().waitFor() },
  {
    name: "rule-new",
    path: () => "/rules/new",
    // Hidden ones too: on a phone the test panel is folded at first.
    ready: (p) => p.getByRole("region", { name: "Preview of the draft", includeHidden: true }).waitFor({ state: "attached" }),
  },
  {
    name: "rule-edit",
    path: () => `/rules/${ids.rule}`,
    ready: (p) => p.getByRole("heading", { name: "Disk alerts to my phone", level: 1 }).waitFor(),
  },
  { name: "plugins", path: () => "/plugins", ready: (p) => p.getByText("bark", { exact: true }).first().waitFor() },
  { name: "account", path: () => "/account", ready: (p) => p.getByRole("main").getByText(user.email).first().waitFor() },
];

/**
 * Null when the top bar's parts (brand, navigation, live indicator, menus) sit on one line; otherwise
 * where they are. The compact menu's open drop-down is not part of the line.
 */
async function topBarLines(page: Page): Promise<string | null> {
  return page.getByRole("banner").evaluate((bar) => {
    const parts = [...bar.children].filter(
      (el) => el.getBoundingClientRect().width > 0 && getComputedStyle(el).position !== "absolute",
    );
    const middles = parts.map((el) => {
      const r = el.getBoundingClientRect();
      return { name: el.className || el.tagName, middle: Math.round(r.top + r.height / 2) };
    });
    const spread = Math.max(...middles.map((m) => m.middle)) - Math.min(...middles.map((m) => m.middle));
    return spread < 8 ? null : middles.map((m) => `${m.name} at ${m.middle} px`).join(", ");
  });
}

/** Where the page's first heading is, to tell whether opening something moved the page. */
const headingTop = async (page: Page) => (await page.getByRole("main").getByRole("heading", { level: 1 }).boundingBox())!.y;

async function settle(page: Page) {
  // No spinner left, fonts and layout done.
  await waitFor("loading indicators to go", async () => (await page.locator(".spinner").count()) === 0, 10_000);
  await page.evaluate(() => document.fonts.ready.then(() => new Promise((r) => requestAnimationFrame(() => r(null)))));
}

for (const [label, options] of [
  ["1280", DESKTOP],
  ["390", PHONE],
] as const) {
  describe(`every main page at ${label} px`, () => {
    it("renders, fits the width, and is captured", async () => {
      const overflows: string[] = [];
      const signedOut = await newPage(browser, options);
      const signedIn = await newPage(browser, options);
      await logIn(signedIn.page, user.email, user.password);
      for (const c of PAGES) {
        const page = c.signedOut ? signedOut.page : signedIn.page;
        await page.goto(c.path());
        await c.ready(page);
        await settle(page);
        await shot(page, `${label}-${c.name}`);
        const over = await horizontalOverflow(page);
        if (over) overflows.push(`${c.name}: ${over}`);
      }
      const page = signedIn.page;
      const banner = page.getByRole("banner");
      const toggle = banner.getByRole("button", { name: "Menu", exact: true });
      const mainNav = page.getByRole("navigation", { name: "Main" });
      if (label === "390") {
        // The compact menu: closed, opened (a drop-down over the page, which stays put), closed by Escape and by navigating.
        await page.goto("/messages");
        await page.getByRole("link", { name: /Build #1841 failed/ }).waitFor();
        expect(await mainNav.isVisible(), "navigation folded away").toBe(false);
        expect(await toggle.getAttribute("aria-expanded")).toBe("false");
        const before = await headingTop(page);
        await toggle.click();
        await mainNav.getByRole("link", { name: "Plugins", exact: true }).waitFor();
        expect(await toggle.getAttribute("aria-expanded")).toBe("true");
        expect(await headingTop(page), "the page does not move when the menu opens").toBe(before);
        expect(await topBarLines(page), "one-line top bar").toBeNull();
        await shot(page, "390-menu-open", false);
        const over = await horizontalOverflow(page);
        if (over) overflows.push(`menu open: ${over}`);
        await page.keyboard.press("Escape");
        await eventually(() => mainNav.isVisible()).toBe(false);
        expect(await toggle.evaluate((el) => el === document.activeElement), "focus back on the menu button").toBe(true);
        // Keyboard only: Enter opens it with focus on the first link; Tab, Enter follows a link.
        await page.keyboard.press("Enter");
        await eventually(() => mainNav.getByRole("link", { name: "Home", exact: true }).evaluate((el) => el === document.activeElement)).toBe(true);
        for (let i = 0; i < 5; i++) await page.keyboard.press("Tab");
        expect(await mainNav.getByRole("link", { name: "Rules", exact: true }).evaluate((el) => el === document.activeElement)).toBe(true);
        await page.keyboard.press("Enter");
        await page.getByRole("heading", { name: "Rules", level: 1 }).waitFor();
        await eventually(() => mainNav.isVisible()).toBe(false);

        // The message filters fold away too, saying how many are active.
        await page.goto("/messages?priority_min=4&tag=ci");
        await page.getByRole("link", { name: /Build #1841 failed/ }).waitFor();
        const filtersToggle = page.getByRole("button", { name: /^Filters/ });
        expect(await filtersToggle.textContent()).toContain("2 active");
        expect(await page.getByRole("search", { name: "Filter messages" }).isVisible()).toBe(false);
        await filtersToggle.click();
        await page.getByLabel("Tag", { exact: true }).waitFor();
        await shot(page, "390-messages-filters-open");
        const overFilters = await horizontalOverflow(page);
        if (overFilters) overflows.push(`filters open: ${overFilters}`);
        await page.getByRole("button", { name: "Clear" }).click();
        await eventually(() => filtersToggle.textContent()).toContain("none active");
        expect(await page.getByRole("search", { name: "Filter messages" }).isVisible()).toBe(false);

        // The rule editor folds its long parts: the filter is open, payload and test panel are one tap away.
        await page.goto(`/rules/${ids.rule}`);
        await page.getByRole("heading", { name: "Disk alerts to my phone", level: 1 }).waitFor();
        await page.getByLabel("Group equals", { exact: true }).waitFor();
        expect(await page.getByLabel("Payload template (JSON)", { exact: true }).isVisible(), "payload folded").toBe(false);
        const testToggle = page.getByRole("button", { name: /^Test against a sample message/ });
        expect(await testToggle.textContent()).toMatch(/preview: (matches|no match)/);
        await testToggle.click();
        await page.getByRole("region", { name: "Preview of the draft" }).waitFor();
        await page.getByRole("button", { name: /^Payload/ }).click();
        await page.getByLabel("Payload template (JSON)", { exact: true }).waitFor();
        await shot(page, "390-rule-edit-unfolded");
        const overRule = await horizontalOverflow(page);
        if (overRule) overflows.push(`rule editor unfolded: ${overRule}`);
      } else {
        // Wide: no menu button, and the top bar is one line (navigation and user menu side by side).
        expect(await toggle.isVisible()).toBe(false);
        const navBox = (await mainNav.boundingBox())!;
        const userBox = (await banner.getByRole("button", { name: /^Account menu/ }).boundingBox())!;
        expect(Math.abs(navBox.y + navBox.height / 2 - (userBox.y + userBox.height / 2)), "one-line top bar").toBeLessThan(8);
        // The user menu, open.
        await banner.getByRole("button", { name: /^Account menu/ }).click();
        await page.getByRole("menu").getByRole("menuitemradio", { name: "Dark" }).waitFor();
        await shot(page, "1280-user-menu", false);
        await page.keyboard.press("Escape");
        await eventually(() => page.getByRole("menu").count()).toBe(0);

        // In between (tablets, small windows) the bar stays one line too: the address, then the
        // live word, then the links give way; from 1023 px down the links are in the compact menu.
        await page.goto("/messages");
        await page.getByRole("link", { name: /Build #1841 failed/ }).waitFor();
        for (const width of [1234, 1181, 1180, 1024, 1023, 900, 800]) {
          await page.setViewportSize({ width, height: 800 });
          expect(await topBarLines(page), `one-line top bar at ${width} px`).toBeNull();
          expect(await toggle.isVisible(), `compact menu at ${width} px`).toBe(width <= 1023);
          const over = await horizontalOverflow(page);
          if (over) overflows.push(`messages at ${width} px: ${over}`);
        }
        await page.setViewportSize({ width: 900, height: 800 });
        await shot(page, "900-messages", false);
        const before = await headingTop(page);
        await toggle.click();
        await mainNav.getByRole("link", { name: "Plugins", exact: true }).waitFor();
        expect(await headingTop(page), "the page does not move when the menu opens").toBe(before);
        await shot(page, "900-menu-open", false);
        // A click outside closes it.
        await page.getByRole("main").getByRole("heading", { level: 1 }).click();
        await eventually(() => mainNav.isVisible()).toBe(false);
        await page.setViewportSize(DESKTOP.viewport!);
      }
      if (label === "1280") {
        // The dark theme, once.
        await signedIn.page.emulateMedia({ colorScheme: "dark" });
        await signedIn.page.goto("/");
        await PAGES.find((p) => p.name === "home")!.ready(signedIn.page);
        await settle(signedIn.page);
        await shot(signedIn.page, "1280-home-dark");
      }
      expect(overflows, `pages wider than ${label} px`).toEqual([]);
      expectCleanPage(signedIn.page);
      expectCleanPage(signedOut.page);
      await signedIn.context.close();
      await signedOut.context.close();
    });
  });
}
