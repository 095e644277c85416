/**
 * The journey of a new user, only through the dashboard (plus the curl their
 * script would send): sign up, verify from the mailed link, create an ingest
 * endpoint, a Bark channel and a rule, send a message, watch it arrive live
 * and get delivered.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanPage, launch, navTo, newPage, shot } from "./support/browser";
import { eventually, ingest, PASSWORD, pushes, stack, uniqueEmail, verificationLink, waitFor, waitForMail } from "./support/env";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** Runs one step; a failure names the step. */
async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    const v = await fn();
    console.log(`  ✓ ${name} (${Date.now() - started} ms)`);
    return v;
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    e.message = `journey step “${name}” failed: ${e.message}`;
    throw e;
  }
}

const nav = navTo;

describe("a new user's journey", () => {
  it("signs up, verifies, sets up endpoint, Bark channel and rule, and sees a message delivered", async () => {
    const { page, context } = await newPage(browser);
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    const email = uniqueEmail("journey");
    const deviceKey = `journey-${email.split("@")[0]}`;
    // The live stream the list updates come from (the messages list does not poll).
    const streams: string[] = [];
    page.on("response", (r) => {
      if (new URL(r.url()).pathname === "/api/events") streams.push(`${r.status()} ${r.headers()["content-type"] ?? ""}`);
    });

    await step("sign up in the UI", async () => {
      await page.goto("/");
      // Signed out: the app sends us to log in; from there to sign up.
      await page.waitForURL("**/login");
      await page.getByRole("link", { name: "Create an account" }).click();
      await page.waitForURL("**/signup");
      await page.getByLabel("E-mail", { exact: true }).fill(email);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByLabel("Repeat password", { exact: true }).fill(PASSWORD);
      await shot(page, "journey-01-signup");
      await page.getByRole("button", { name: "Sign up" }).click();
      await eventually(() => page.getByRole("heading", { name: "Check your inbox" }).isVisible()).toBe(true);
      await shot(page, "journey-02-check-inbox");
    });

    await step("unverified: banner shown, create actions disabled", async () => {
      await page.getByRole("link", { name: "Continue to the dashboard" }).click();
      await page.getByRole("region", { name: "E-mail verification" }).waitFor();
      const quick = page.getByRole("group", { name: "Quick actions" });
      for (const name of ["New endpoint", "New channel", "New rule"]) {
        expect(await quick.getByRole("button", { name }).isDisabled(), `${name} disabled`).toBe(true);
      }
      await shot(page, "journey-03-home-unverified");
    });

    const link = await step("read the verification link from the mail sent over SMTP", async () => {
      const mail = await waitForMail(email, "Confirm your e-mail address");
      const url = verificationLink(mail);
      expect(url.startsWith(`${stack().baseUrl}/verify-email?token=`)).toBe(true);
      return url;
    });

    await step("follow the link", async () => {
      await page.goto(link);
      await page.getByText("Your e-mail address is verified.").waitFor();
      await shot(page, "journey-04-verified");
      await page.getByRole("link", { name: "Go to the dashboard" }).click();
      await page.getByRole("heading", { name: "Home", level: 1 }).waitFor();
      await eventually(() => page.getByRole("region", { name: "E-mail verification" }).count()).toBe(0);
    });

    const endpoint = await step("create an ingest endpoint: key and URL shown once", async () => {
      await page.getByRole("group", { name: "Quick actions" }).getByRole("button", { name: "New endpoint" }).click();
      const dialog = page.getByRole("dialog");
      await dialog.getByLabel("Name", { exact: true }).fill("server-alerts");
      await dialog.getByRole("button", { name: "Create endpoint" }).click();
      const keyBlock = dialog.locator(".copy-value", { hasText: "Ingest key" });
      const urlBlock = dialog.locator(".copy-value", { hasText: "Ingest URL" });
      const key = (await keyBlock.locator("code").textContent())?.trim() ?? "";
      const url = (await urlBlock.locator("code").textContent())?.trim() ?? "";
      expect(key.length).toBeGreaterThan(20);
      expect(url).toMatch(new RegExp(`^${stack().baseUrl.replace(/\./g, "\\.")}/api/ingest/[0-9a-f]{32}$`));
      await eventually(() => dialog.getByText(/curl -X POST/).textContent()).toContain(key);
      // The copy button puts the key on the clipboard.
      await dialog.getByRole("button", { name: "Copy ingest key to clipboard" }).click();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
      await shot(page, "journey-05-endpoint-created");
      await dialog.getByRole("button", { name: "I have stored the key" }).click();
      await eventually(() => page.getByRole("dialog").count()).toBe(0);
      expect(await page.getByText(key).count(), "the key is not shown again").toBe(0);
      await page.getByText("server-alerts").first().waitFor();
      return { key, url };
    });

    await step("create a Bark channel pointing at the receiver, and test it", async () => {
      await nav(page, "Channels");
      await page.getByRole("button", { name: "New channel" }).click();
      await page.waitForURL("**/channels/new");
      await page.getByLabel("Name", { exact: true }).fill("My iPhone");
      expect(await page.getByLabel("Plugin", { exact: true }).inputValue()).toBe("bark");
      await page.getByRole("textbox", { name: "Server base URL", exact: true }).fill(stack().barkUrl);
      await page.getByLabel("Device key", { exact: true }).fill(deviceKey);
      await shot(page, "journey-06-channel-form");
      await page.getByRole("button", { name: "Create channel" }).click();
      await page.getByText(/^Channel created\./).waitFor();
      expect(page.url()).toMatch(/\/channels\/[0-9a-f]{32}$/);
      const before = (await pushes()).length;
      await page.getByRole("button", { name: "Send test notification" }).click();
      await page.getByText(/Test notification sent \(HTTP 200\)/).waitFor();
      const test = await waitFor("the test push at the receiver", async () => (await pushes()).slice(before)[0]);
      expect(test.path).toBe("/push");
      expect(test.json).toMatchObject({ device_key: deviceKey });
      await shot(page, "journey-07-channel-created");
    });

    await step("create a rule; the server tests the unsaved draft first", async () => {
      await nav(page, "Rules");
      await page.getByRole("button", { name: "New rule" }).click();
      await page.waitForURL("**/rules/new");
      await page.getByLabel("Name", { exact: true }).fill("Alerts to my phone");
      // The only channel is preselected.
      expect(await page.getByLabel("Channel", { exact: true }).locator("option:checked").textContent()).toContain("My iPhone");
      await page.getByLabel("server-alerts", { exact: true }).check();
      await page.getByLabel("Body contains any of").fill("full");
      await page.getByLabel("Lowest priority").selectOption("3");
      await page.getByLabel("Payload template (JSON)").fill(
        JSON.stringify({ title: "{{message.title}}", body: "{{message.body}} ({{ingest_endpoint.name}})", group: "{{message.group}}" }, null, 2),
      );
      // The default sample ("…91% full", priority 4) arrives on no endpoint: the draft does not match…
      await page.getByRole("button", { name: "Test draft on the server" }).click();
      const result = page.getByRole("listitem", { name: "Result for Alerts to my phone" });
      await eventually(() => result.textContent()).toContain("Match: no");
      // …and does when it arrives on server-alerts. Nothing is saved yet.
      await page.getByLabel("Arrives on endpoint").selectOption({ label: "server-alerts" });
      await page.getByRole("button", { name: "Test draft on the server" }).click();
      await eventually(() => result.textContent()).toContain("Match: yes");
      expect(await result.locator("pre").textContent()).toContain("(server-alerts)");
      await shot(page, "journey-08-rule-editor");
      await page.getByRole("button", { name: "Create rule" }).click();
      await page.getByText(/^Rule created\./).waitFor();
      expect(page.url()).toMatch(/\/rules\/[0-9a-f]{32}$/);
    });

    const messageId = await step("send a message to the ingest URL; it appears without reloading (SSE)", async () => {
      await nav(page, "Messages");
      await page.getByRole("heading", { name: "Messages", level: 1 }).waitFor();
      await page.getByText("Live", { exact: true }).waitFor();
      expect(streams.some((s) => s.startsWith("200 text/event-stream")), `GET /api/events answers: ${streams.join(", ")}`).toBe(true);
      // A marker that a reload would wipe.
      await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
      const id = await ingest(endpoint, {
        title: "Disk almost full",
        body: "/dev/sda1 on nas is 91% full",
        priority: 4,
        tags: ["ops", "disk"],
        group: "servers",
      });
      await page.getByRole("link", { name: /Disk almost full/ }).waitFor({ timeout: 10_000 });
      expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
      await shot(page, "journey-09-messages-live");
      return id;
    });

    await step("open the message: its delivery to the channel is sent", async () => {
      await page.getByRole("link", { name: /Disk almost full/ }).click();
      await page.waitForURL(`**/messages/${messageId}`);
      const delivery = page.getByRole("list", { name: "Deliveries" }).getByRole("listitem", { name: "Delivery to My iPhone" });
      await expect
        .poll(() => delivery.getByTestId("delivery-status").textContent(), { timeout: 30_000, message: "delivery status" })
        .toBe("sent");
      await shot(page, "journey-10-message-detail-sent");
    });

    await step("the Bark receiver got the rendered payload", async () => {
      const push = await waitFor("the delivery at the receiver", async () =>
        (await pushes()).find((p) => {
          const json = p.json as { title?: string; device_key?: string } | undefined;
          return json?.device_key === deviceKey && json.title === "Disk almost full";
        }),
      );
      expect(push.path).toBe("/push");
      expect(String(push.headers["content-type"])).toMatch(/^application\/json/);
      expect(push.json).toEqual({
        title: "Disk almost full",
        body: "/dev/sda1 on nas is 91% full (server-alerts)",
        group: "servers",
        device_key: deviceKey,
      });
    });

    expectCleanPage(page);
    await context.close();
  });
});
