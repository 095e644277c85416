/**
 * Everyday work in the dashboard against the real server: retrying a failed
 * delivery by hand, revoking and archiving endpoints, a channel's raw JSON
 * keeping unknown keys, an ntfy channel made through its schema-drawn form,
 * paging through many messages, deleting old messages in steps with a
 * progress bar, and an operator installing and removing a plugin.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanPage, launch, logIn, navTo, newPage, shot } from "./support/browser";
import {
  apiCall,
  deliveriesOf,
  eventually,
  ingest,
  ingestMany,
  ingestStatus,
  pushes,
  refuseDevice,
  seedBarkChannel,
  seedEndpoint,
  seedOperator,
  seedRule,
  seedUser,
  stack,
  waitFor,
} from "./support/env";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

const suffix = () => randomBytes(4).toString("hex");

/** The `<dd>` next to the `<dt>` named `term` inside `scope`. */
const definition = (scope: ReturnType<Page["locator"]>, term: string) =>
  scope.locator("dt", { hasText: new RegExp(`^${term}$`) }).locator("xpath=following-sibling::dd[1]");

describe("a failed delivery", () => {
  it("is retried by hand from the message detail: the attempt count grows and the status turns to sent", async () => {
    const user = await seedUser("retry");
    const endpoint = await seedEndpoint(user, "flaky-source");
    const deviceKey = `retry-${suffix()}`;
    await refuseDevice(deviceKey, true);
    try {
      const channel = await seedBarkChannel(user, "Flaky phone", deviceKey);
      await seedRule(user, { name: "All to the flaky phone", channel_id: channel.id, filter: {}, payload_template: { title: "{{message.title}}", body: "{{message.body}}" } });
      const id = await ingest(endpoint, { title: "Retry me", body: "the receiver refuses this device for now" });
      await waitFor("the delivery to fail", async () => (await deliveriesOf(user, id)).every((d) => d.status === "failed"), 30_000);

      const { page, context } = await newPage(browser);
      await logIn(page, user.email, user.password);
      await page.goto(`/messages/${id}`);
      const delivery = page.getByRole("list", { name: "Deliveries" }).getByRole("listitem", { name: "Delivery to Flaky phone" });
      await eventually(() => delivery.getByTestId("delivery-status").textContent()).toBe("failed");
      const attemptsBefore = Number(await definition(delivery, "Attempts").textContent());
      expect(attemptsBefore).toBeGreaterThanOrEqual(1);
      // Every attempt is listed, with the receiver's refusal.
      expect(await delivery.locator("tbody tr").count()).toBe(attemptsBefore);
      expect(await delivery.textContent()).toContain("failed to get device token");
      await shot(page, "workflow-01-delivery-failed");

      // The receiver accepts the device again; retry by hand.
      await refuseDevice(deviceKey, false);
      const pushesBefore = (await pushes()).filter((p) => (p.json as { device_key?: string })?.device_key === deviceKey).length;
      await delivery.getByRole("button", { name: "Retry delivery to Flaky phone" }).click();
      await expect
        .poll(() => delivery.getByTestId("delivery-status").textContent(), { timeout: 30_000, message: "status after the retry" })
        .toBe("sent");
      await eventually(async () => Number(await definition(delivery, "Attempts").textContent())).toBe(attemptsBefore + 1);
      expect(await delivery.locator("tbody tr").count()).toBe(attemptsBefore + 1);
      expect(await delivery.getByRole("button", { name: "Retry delivery to Flaky phone" }).count(), "no retry for a sent delivery").toBe(0);
      const delivered = (await pushes()).filter((p) => (p.json as { device_key?: string })?.device_key === deviceKey);
      expect(delivered.length).toBe(pushesBefore + 1);
      expect(delivered.at(-1)!.json).toMatchObject({ title: "Retry me", device_key: deviceKey });
      await shot(page, "workflow-02-delivery-retried");
      expectCleanPage(page);
      await context.close();
    } finally {
      await refuseDevice(deviceKey, false);
    }
  });
});

describe("ingest endpoints", () => {
  it("revoke and archive through their confirmation dialogs; both then refuse ingest with 401", async () => {
    const user = await seedUser("retire");
    const revokeMe = await seedEndpoint(user, "to-revoke");
    const archiveMe = await seedEndpoint(user, "to-archive");
    expect(await ingestStatus(revokeMe, { body: "still open" })).toBe(201);
    expect(await ingestStatus(archiveMe, { body: "still open" })).toBe(201);

    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);
    await navTo(page, "Endpoints");
    const row = (name: string) => page.getByRole("row").filter({ has: page.getByRole("cell", { name, exact: true }) });
    await row("to-revoke").waitFor();

    // Cancel first: nothing changes.
    await row("to-revoke").getByRole("button", { name: "Revoke" }).click();
    let dialog = page.getByRole("alertdialog", { name: "Revoke “to-revoke”?" });
    await dialog.getByText(/will be refused from now on/).waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await eventually(() => dialog.count()).toBe(0);
    expect(await ingestStatus(revokeMe, { body: "after cancel" })).toBe(201);

    await row("to-revoke").getByRole("button", { name: "Revoke" }).click();
    await shot(page, "workflow-03-revoke-confirm");
    await dialog.getByRole("button", { name: "Revoke" }).click();
    await eventually(() => dialog.count()).toBe(0);
    await eventually(() => row("to-revoke").getByText("revoked", { exact: true }).count()).toBe(1);
    expect(await row("to-revoke").getByRole("button", { name: "Revoke" }).count()).toBe(0);
    expect(await ingestStatus(revokeMe, { body: "after revoke" })).toBe(401);

    await row("to-archive").getByRole("button", { name: "Archive" }).click();
    dialog = page.getByRole("alertdialog", { name: "Archive “to-archive”?" });
    await dialog.getByRole("button", { name: "Archive" }).click();
    await eventually(() => dialog.count()).toBe(0);
    // Archived endpoints leave the list unless asked for.
    await eventually(() => row("to-archive").count()).toBe(0);
    await page.getByLabel("Show archived endpoints").check();
    await eventually(() => row("to-archive").getByText("archived", { exact: true }).count()).toBe(1);
    expect(await ingestStatus(archiveMe, { body: "after archive" })).toBe(401);
    await shot(page, "workflow-04-endpoints-retired");

    const listed = await apiCall<{ items: { name: string; revoked_at: string | null; archived_at: string | null }[] }>(
      user,
      "GET",
      "/api/ingest-endpoints?include_archived=true",
    );
    const byName = Object.fromEntries(listed.items.map((e) => [e.name, e]));
    expect(byName["to-revoke"]).toMatchObject({ archived_at: null });
    expect(byName["to-revoke"].revoked_at).not.toBeNull();
    expect(byName["to-archive"].archived_at).not.toBeNull();
    // Their messages stay.
    const messages = await apiCall<{ items: unknown[] }>(user, "GET", "/api/messages?limit=10");
    expect(messages.items).toHaveLength(3);
    expectCleanPage(page);
    await context.close();
  });
});

describe("a channel's raw JSON", () => {
  it("keeps a key the schema does not know through save and reload, and the masked secret keeps working", async () => {
    const user = await seedUser("rawjson");
    const deviceKey = `rawjson-${suffix()}`;
    const channel = await seedBarkChannel(user, "Json phone", deviceKey);
    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);
    await page.goto(`/channels/${channel.id}`);
    await page.getByRole("heading", { name: "Json phone", level: 1 }).waitFor();

    await page.getByRole("tab", { name: "JSON" }).click();
    const raw = page.getByLabel("Settings (JSON)");
    const config = JSON.parse(await raw.inputValue()) as Record<string, unknown>;
    expect(config.device_key, "secrets come back masked").toBe("********");
    await raw.fill(JSON.stringify({ ...config, x_custom: "1" }, null, 2));
    // The form tab shows the known fields; the unknown key survives the round trip through it.
    await page.getByRole("tab", { name: "Form" }).click();
    await page.getByRole("textbox", { name: "Server base URL", exact: true }).waitFor();
    await page.getByRole("tab", { name: "JSON" }).click();
    expect(JSON.parse(await raw.inputValue())).toMatchObject({ x_custom: "1" });
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Changes saved.").waitFor();

    await page.reload();
    await page.getByRole("tab", { name: "JSON" }).click();
    expect(JSON.parse(await page.getByLabel("Settings (JSON)").inputValue())).toMatchObject({ x_custom: "1", device_key: "********" });
    await shot(page, "workflow-05-channel-json");

    // The API agrees, and the stored device key was kept (the mask sent back means "unchanged").
    const stored = await apiCall<{ config: Record<string, unknown> }>(user, "GET", `/api/channels/${channel.id}`);
    expect(stored.config.x_custom).toBe("1");
    const before = (await pushes()).length;
    await page.getByRole("button", { name: "Send test notification" }).click();
    await page.getByText(/Test notification sent \(HTTP 200\)/).waitFor();
    const test = await waitFor("the test push", async () => (await pushes()).slice(before).find((p) => (p.json as { device_key?: string })?.device_key === deviceKey));
    expect(test.path).toBe("/push");
    expectCleanPage(page);
    await context.close();
  });
});

describe("an ntfy channel", () => {
  it("is created through the form drawn from its schema, and its token comes back masked", async () => {
    const user = await seedUser("ntfy");
    const token = `tk_e2e${suffix()}${suffix()}`;
    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);
    await page.goto("/channels/new");
    await page.getByLabel("Name", { exact: true }).fill("Ops topic");
    await page.getByLabel("Plugin", { exact: true }).selectOption("ntfy");
    // Required fields (with the " *" marker) first, drawn from the plugin's real config schema.
    await page.getByRole("textbox", { name: "Server URL", exact: true }).fill(stack().barkUrl);
    await page.getByRole("textbox", { name: "Topic", exact: true }).fill("ops-alerts");
    const tokenInput = page.getByLabel("Token", { exact: true });
    expect(await tokenInput.getAttribute("type"), "a secret is a password input").toBe("password");
    await tokenInput.fill(token);
    await page.getByRole("button", { name: "Create channel" }).click();
    await page.getByText(/^Channel created\./).waitFor();
    const id = /\/channels\/([0-9a-f]{32})$/.exec(page.url())?.[1];
    expect(id, "the new channel's page").toBeTruthy();

    // The saved channel shows the token masked, and the real value is nowhere on the page.
    const shown = page.getByLabel("Token", { exact: true });
    expect(await shown.inputValue()).toBe("********");
    expect(await shown.getAttribute("type")).toBe("password");
    await page.getByText(/^Stored secret/).waitFor();
    expect(await page.getByRole("textbox", { name: "Topic", exact: true }).inputValue()).toBe("ops-alerts");
    await shot(page, "workflow-09-ntfy-channel");
    expect(await page.content()).not.toContain(token);
    const stored = await apiCall<{ plugin: string; config: Record<string, unknown> }>(user, "GET", `/api/channels/${id}`);
    expect(stored).toMatchObject({ plugin: "ntfy", config: { server_url: stack().barkUrl, topic: "ops-alerts", token: "********" } });
    expectCleanPage(page);
    await context.close();
  });
});

describe("many messages", () => {
  it("page with “Load more”: all of them, newest first, none twice", async () => {
    const COUNT = 60;
    const user = await seedUser("paging");
    const endpoint = await seedEndpoint(user, "chatty");
    const ids = await ingestMany(endpoint, COUNT, (i) => ({ title: `Paged message ${i + 1}`, body: `number ${i + 1}` }));

    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);
    await navTo(page, "Messages");
    const links = page.getByRole("main").locator("a.message-link");
    const shownIds = async () => (await links.evaluateAll((as) => as.map((a) => a.getAttribute("href")!))).map((h) => h.replace("/messages/", ""));
    await page.getByText(/^Showing 50 messages \(more available\)\.$/).waitFor();
    const firstPage = await shownIds();
    expect(firstPage).toHaveLength(50);
    await page.getByRole("button", { name: "Load more" }).click();
    await page.getByText(/^Showing 60 messages\.$/).waitFor();
    await page.getByText("That is all.").waitFor();
    expect(await page.getByRole("button", { name: "Load more" }).count()).toBe(0);
    const shown = await shownIds();
    expect(shown.slice(0, 50), "the first page stays as it was").toEqual(firstPage);
    expect(new Set(shown).size, "no message shown twice").toBe(COUNT);
    // Ids are time-ordered: newest first means descending ids, across the page boundary.
    expect(shown).toEqual([...ids].sort().reverse());
    await shot(page, "workflow-06-messages-load-more");
    expectCleanPage(page);
    await context.close();
  });

  it("“Delete old messages” goes in steps with a real progress bar, can stop between steps and continue", async () => {
    const COUNT = 1234;
    const user = await seedUser("batchdel");
    const endpoint = await seedEndpoint(user, "firehose");
    const started = Date.now();
    await ingestMany(endpoint, COUNT, (i) => ({ body: `bulk ${i}` }));
    console.log(`  ingested ${COUNT} messages in ${Date.now() - started} ms`);

    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);
    await page.goto("/messages");
    await page.getByText(/^Showing 50 messages \(more available\)\.$/).waitFor();

    // Every step's answer, as the server gave it; the second one is held back until the test has looked.
    const answers: { deleted: number; remaining: number }[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route("**/api/messages/batch-delete", async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { deleted: number; remaining: number };
      answers.push(body);
      if (answers.length === 2) await held;
      await route.fulfill({ response });
    });

    await page.getByRole("button", { name: "Delete old messages…" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete old messages" });
    await dialog.getByLabel("Older than (days)").fill("0");
    await dialog.getByRole("button", { name: "Delete all messages" }).click();
    const bar = dialog.getByRole("progressbar", { name: "Deleting messages" });
    const progress = dialog.getByTestId("batch-delete-progress");
    await eventually(() => progress.textContent()).toBe("Deleted 500 of 1,234 messages (40 %)");
    expect(await bar.getAttribute("aria-valuenow")).toBe("500");
    expect(await bar.getAttribute("aria-valuemax")).toBe(String(COUNT));
    await shot(page, "workflow-07-batch-delete-progress", false);

    // Stop: the step in flight finishes, no further one starts.
    await dialog.getByRole("button", { name: "Stop" }).click();
    await dialog.getByRole("button", { name: "Stopping after this step…" }).waitFor();
    release();
    await eventually(() => dialog.getByTestId("batch-delete-result").textContent()).toBe("Stopped: deleted 1,000 messages; 234 still match.");
    expect(answers).toEqual([
      { deleted: 500, remaining: 734 },
      { deleted: 500, remaining: 234 },
    ]);
    expect(await countMessages(user)).toBe(234);
    await shot(page, "workflow-08-batch-delete-stopped", false);

    await dialog.getByRole("button", { name: "Continue deleting" }).click();
    await eventually(() => dialog.getByTestId("batch-delete-result").textContent()).toBe(`Done: deleted 1,234 messages.`);
    expect(await bar.getAttribute("aria-valuenow")).toBe(String(COUNT));
    expect(answers.at(-1)).toEqual({ deleted: 234, remaining: 0 });
    expect(answers).toHaveLength(3);
    await dialog.getByRole("button", { name: "Done" }).click();
    await page.getByText("No messages yet — here is your curl").waitFor();
    expect(await countMessages(user)).toBe(0);
    expectCleanPage(page);
    await context.close();
  });
});

describe("plugins", () => {
  /** A third-party channel plugin built against WIT 0.2.0: id `http-post`, version 0.1.0. */
  const COMPONENT = fileURLToPath(new URL("../../host/tests/fixtures/compat/http-post-wit-0.2.0.wasm", import.meta.url));
  const NOT_A_COMPONENT = { name: "notes.wasm", mimeType: "application/wasm", buffer: Buffer.from("just some text, not a component\n") };

  it("an operator uploads a component and sees it listed, is told why a text file is refused, then removes it", async () => {
    const operator = await seedOperator("operator");
    const { page, context } = await newPage(browser);
    try {
      await logIn(page, operator.email, operator.password);
      await navTo(page, "Plugins");
      const form = page.getByRole("region", { name: "Install a plugin" });
      const file = form.getByLabel("Plugin file (.wasm)");

      // Refused: the server's own message, as plain text, tied to the file input.
      await file.setInputFiles(NOT_A_COMPONENT);
      await form.getByRole("button", { name: "Install plugin" }).click();
      const error = form.locator(".field-error");
      await error.waitFor();
      const upload = new FormData();
      upload.append("file", new Blob([NOT_A_COMPONENT.buffer]), NOT_A_COMPONENT.name);
      const refused = await fetch(`${stack().baseUrl}/api/plugins`, { method: "POST", headers: { Authorization: `Bearer ${operator.token}` }, body: upload });
      const body = (await refused.json()) as { error: { code: string; message: string; field?: string } };
      expect([refused.status, body.error.code, body.error.field]).toEqual([422, "not_a_component", "file"]);
      expect(await error.textContent()).toBe(body.error.message);
      expect((await file.getAttribute("aria-describedby"))?.split(" ")).toContain(await error.getAttribute("id"));
      await shot(page, "workflow-10-plugin-refused", false);

      // A real component: installed, shown with its id and version, listed.
      await file.setInputFiles(COMPONENT);
      await form.getByRole("button", { name: "Install plugin" }).click();
      await eventually(() => form.getByTestId("plugin-installed").textContent()).toMatch(/^Installed .+ \(http-post\), version 0\.1\.0\.$/);
      expect(await error.count(), "the earlier refusal is gone").toBe(0);
      const card = page.getByRole("listitem").filter({ has: page.locator("code", { hasText: /^http-post$/ }) });
      await card.waitFor();
      expect(await definition(card, "Version").textContent()).toBe("0.1.0");
      expect(await card.getByText("built in", { exact: true }).count()).toBe(0);
      const listed = await apiCall<{ items: { id: string; version: string; builtin: boolean }[] }>(operator, "GET", "/api/plugins");
      expect(listed.items.find((p) => p.id === "http-post")).toMatchObject({ version: "0.1.0", builtin: false });
      await shot(page, "workflow-11-plugin-installed");

      // Removed after a confirmation.
      // The plugin's own *Remove* (every version), not a version's *Remove this version*.
      await card.getByRole("button", { name: /^Remove (?!this version)/ }).click();
      const dialog = page.getByRole("alertdialog", { name: /^Remove “/ });
      await dialog.getByRole("button", { name: "Remove", exact: true }).click();
      await eventually(() => dialog.count()).toBe(0);
      await eventually(() => page.getByTestId("plugin-removed").textContent()).toMatch(/^Removed .+ \(http-post\)\.$/);
      await eventually(() => card.count()).toBe(0);
      const after = await apiCall<{ items: { id: string }[] }>(operator, "GET", "/api/plugins");
      expect(after.items.map((p) => p.id)).not.toContain("http-post");
      expectCleanPage(page);
    } finally {
      await context.close();
      // Leave the server's plugins as the other tests expect them, whatever happened above.
      await apiCall(operator, "DELETE", "/api/plugins/http-post?force=true").catch(() => undefined);
    }
  });
});

/** All of the user's messages, counted through the API's cursor pages. */
async function countMessages(user: { token: string }): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page: { items: unknown[]; next_cursor: string | null } = await apiCall(
      user,
      "GET",
      `/api/messages?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    count += page.items.length;
    cursor = page.next_cursor;
  } while (cursor);
  return count;
}
