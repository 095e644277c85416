/**
 * Plugin versions, pins and grants against the real server, while messages
 * keep arriving: an operator installs `http-post` 0.1.0, creates a channel
 * (following the newest) and a rule in the dashboard, and while a script
 * posts to the ingest URL in a loop they install 0.2.0 beside it (upgrade),
 * pin the channel back to 0.1.0 (rollback), restrict the plugin's grants
 * (allowed hosts: the receiver; memory and time limits), are refused removing
 * the pinned version, and remove the unused one. Every message is delivered,
 * and the receiver sees which version sent it (the plugin's User-Agent names
 * its version). At the end, removing the pinned version anyway breaks the
 * channel, and the channel list says so.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanPage, launch, logIn, navTo, newPage, shot } from "./support/browser";
import {
  apiCall,
  eventually,
  ingest,
  pushes,
  seedBarkChannel,
  seedEndpoint,
  seedOperator,
  seedUser,
  stack,
  waitFor,
  type Seeded,
  type SeededEndpoint,
} from "./support/env";
import type { ReceivedPush } from "./support/stack";

/** `http-post` 0.1.0 (built against WIT 0.2.0), the host's compatibility fixture. */
const V1 = fileURLToPath(new URL("../../host/tests/fixtures/compat/http-post-wit-0.2.0.wasm", import.meta.url));
/** `http-post` 0.2.0: examples/http-post with the version bumped (see e2e/fixtures/README.md). */
const V2 = fileURLToPath(new URL("./fixtures/http-post-0.2.0.wasm", import.meta.url));

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** A script posting numbered messages to an ingest URL until stopped. */
class Sender {
  private seq = 0;
  private stopped = false;
  private loop: Promise<void>;
  /** Message ids by sequence number. */
  readonly ids = new Map<number, string>();
  readonly errors: string[] = [];

  constructor(
    private endpoint: SeededEndpoint,
    readonly tag: string,
    intervalMs: number,
  ) {
    this.loop = (async () => {
      while (!this.stopped) {
        const n = ++this.seq;
        try {
          this.ids.set(n, await ingest(this.endpoint, { title: `${tag} #${n}`, body: `message ${n} of ${tag}` }));
        } catch (err) {
          this.errors.push(`#${n}: ${String(err)}`);
        }
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
  }

  /** The number of the last message whose ingest has completed (every later one was sent after this moment). */
  get sent(): number {
    return this.seq;
  }

  async stop(): Promise<number> {
    this.stopped = true;
    await this.loop;
    return this.seq;
  }
}

/** The receiver's pushes that carry this run's messages: sequence number and the plugin version that sent it. */
async function delivered(tag: string): Promise<{ seq: number; version: string; push: ReceivedPush }[]> {
  const out: { seq: number; version: string; push: ReceivedPush }[] = [];
  for (const p of await pushes()) {
    const title = (p.json as { title?: unknown } | undefined)?.title;
    if (typeof title !== "string" || !title.startsWith(`${tag} #`)) continue;
    const ua = String(p.headers["user-agent"] ?? "");
    const version = /beacon-http-post-example\/(\S+)/.exec(ua)?.[1] ?? `unknown (${ua})`;
    out.push({ seq: Number(title.slice(tag.length + 2)), version, push: p });
  }
  return out;
}

/** Wait until three messages numbered above `after` were delivered by `version`; every one above `after` must have been. */
async function expectVersionAfter(tag: string, after: number, version: string) {
  await waitFor(
    `3 messages sent after #${after} to be delivered by http-post ${version}`,
    async () => (await delivered(tag)).filter((d) => d.seq > after && d.version === version).length >= 3,
    45_000,
  );
  const later = (await delivered(tag)).filter((d) => d.seq > after);
  expect(
    later.filter((d) => d.version !== version).map((d) => `#${d.seq} by ${d.version}`),
    `messages sent after #${after} are delivered by ${version} only`,
  ).toEqual([]);
}

async function upload(page: Page, file: string) {
  const form = page.getByRole("region", { name: "Install a plugin" });
  await form.getByLabel("Plugin file (.wasm)").setInputFiles(file);
  await form.getByRole("button", { name: "Install plugin" }).click();
  const notice = form.getByTestId("plugin-installed");
  await notice.waitFor();
  return (await notice.textContent()) ?? "";
}

describe("plugin versions while messages keep arriving", () => {
  it("upgrade, rollback by pinning, grants and removing the unused version: every message delivered", { timeout: 300_000 }, async () => {
    const tag = `vers-${randomBytes(4).toString("hex")}`;
    const operator: Seeded = await seedOperator("versions");
    const endpoint = await seedEndpoint(operator, "versioned-source");
    const { page, context } = await newPage(browser);
    let sender: Sender | undefined;
    let channelId: string | undefined;
    try {
      await logIn(page, operator.email, operator.password);

      // ---- install 0.1.0
      await navTo(page, "Plugins");
      expect(await upload(page, V1)).toMatch(/^Installed .+ \(http-post\), version 0\.1\.0\.$/);
      const card = page.getByRole("listitem").filter({ has: page.locator("code", { hasText: /^http-post$/ }) });
      await card.waitFor();
      const name = (await card.getByRole("heading", { level: 3 }).textContent())!.trim();
      const versions = card.getByRole("table", { name: `Versions of ${name}` });
      await versions.getByTestId("version-0.1.0").waitFor();
      expect(await versions.getByTestId("version-0.1.0").getByText("newest").count()).toBe(1);

      // ---- a channel following the newest, and a rule, through the dashboard
      await navTo(page, "Channels");
      await page.getByRole("button", { name: "New channel" }).click();
      await page.waitForURL("**/channels/new");
      await page.getByLabel("Name", { exact: true }).fill("Versioned hook");
      await page.getByLabel("Plugin", { exact: true }).selectOption("http-post");
      const versionSelect = page.getByLabel("Plugin version", { exact: true });
      expect(await versionSelect.inputValue(), "follows the newest by default").toBe("");
      await page.getByRole("textbox", { name: /^URL/ }).fill(`${stack().barkUrl}/push`);
      await page.getByRole("button", { name: "Create channel" }).click();
      await page.getByText(/^Channel created\./).waitFor();
      channelId = /\/channels\/([0-9a-f]{32})$/.exec(page.url())?.[1];
      expect(channelId, "the new channel's page").toBeTruthy();
      await eventually(() => page.getByTestId("channel-version").textContent()).toContain("Runs version 0.1.0; follows the newest");

      await navTo(page, "Rules");
      await page.getByRole("button", { name: "New rule" }).click();
      await page.waitForURL("**/rules/new");
      await page.getByLabel("Name", { exact: true }).fill("Everything to the versioned hook");
      await page.getByLabel("Channel", { exact: true }).selectOption(channelId!);
      await page.getByRole("button", { name: "Create rule" }).click();
      await page.getByText(/Rule created/).waitFor();

      // ---- messages keep arriving from here on
      sender = new Sender(endpoint, tag, 100);
      await expectVersionAfter(tag, 0, "0.1.0");

      // ---- upgrade: 0.2.0 beside 0.1.0; the channel follows the newest
      await navTo(page, "Plugins");
      const installed = await upload(page, V2);
      const afterUpgrade = sender.sent;
      expect(installed).toBe(`Installed ${name} (http-post) 0.2.0 beside 0.1.0; channels following the newest now use 0.2.0.`);
      await versions.getByTestId("version-0.2.0").getByText("newest").waitFor();
      expect(await versions.getByTestId("version-0.1.0").getByText("newest").count()).toBe(0);
      await expectVersionAfter(tag, afterUpgrade, "0.2.0");
      await eventually(async () => (await versions.getByTestId("version-0.2.0").locator('td[data-label="Channels"]').textContent()) ?? "", {
        message: "the versions table counts the channel on 0.2.0 (after a reload)",
      }).toBe("1");
      await shot(page, "versions-01-upgraded");

      // ---- rollback: pin the channel to 0.1.0
      await page.goto(`/channels/${channelId}`);
      await page.getByRole("heading", { name: "Versioned hook", level: 1 }).waitFor();
      await eventually(() => page.getByTestId("channel-version").textContent()).toContain("Runs version 0.2.0; follows the newest");
      await page.getByLabel("Plugin version", { exact: true }).selectOption("0.1.0");
      await page.getByRole("button", { name: "Save changes" }).click();
      await page.getByText("Changes saved.").waitFor();
      const afterPin = sender.sent;
      await eventually(() => page.getByTestId("channel-version").textContent()).toBe("Runs version 0.1.0 (pinned).");
      const stored = await apiCall<{ plugin_version: string | null; running_version: string | null }>(operator, "GET", `/api/channels/${channelId}`);
      expect(stored).toMatchObject({ plugin_version: "0.1.0", running_version: "0.1.0" });
      await expectVersionAfter(tag, afterPin, "0.1.0");
      await navTo(page, "Channels");
      const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: "Versioned hook", exact: true }) });
      await row.getByText("0.1.0 (pinned)").waitFor();
      await shot(page, "versions-02-pinned");

      // ---- grants: only the receiver's host, smaller limits
      await navTo(page, "Plugins");
      await card.getByRole("button", { name: `Edit grants of ${name}` }).click();
      const grants = card.getByRole("form", { name: `Grants of ${name}` });
      await grants.getByLabel("Only these hosts", { exact: true }).check();
      await grants.getByLabel("Allowed hosts", { exact: true }).fill(new URL(stack().barkUrl).hostname);
      await grants.getByLabel("Memory limit (MiB)", { exact: true }).fill("48");
      await grants.getByLabel("Time limit per call (ms)", { exact: true }).fill("5000");
      await grants.getByRole("button", { name: "Save grants" }).click();
      await grants.getByTestId("grants-saved").waitFor();
      const afterGrants = sender.sent;
      await eventually(() => card.getByTestId("limit-memory").textContent()).toBe("48 MiB (granted)");
      expect(await card.getByTestId("limit-timeout").textContent()).toBe("5,000 ms (granted)");
      expect(await card.getByTestId("grant-hosts").textContent()).toBe(new URL(stack().barkUrl).hostname);
      const listed = await apiCall<{ items: { id: string; grants: unknown; limits: unknown }[] }>(operator, "GET", "/api/plugins");
      expect(listed.items.find((p) => p.id === "http-post")).toMatchObject({
        grants: { allowed_hosts: [new URL(stack().barkUrl).hostname], allow_private_networks: null, memory_mib: 48, timeout_ms: 5000, capabilities: null },
        limits: { memory_mib: 48, timeout_ms: 5000 },
      });
      await expectVersionAfter(tag, afterGrants, "0.1.0");
      await shot(page, "versions-03-grants");

      // ---- the pinned version cannot be removed (unless forced); the unused one can
      await versions.getByRole("button", { name: `Remove this version (0.1.0 of ${name})` }).click();
      let dialog = page.getByRole("alertdialog", { name: `Remove version 0.1.0 of “${name}”?` });
      await dialog.getByRole("button", { name: "Remove", exact: true }).click();
      await dialog.getByTestId("plugin-in-use").waitFor();
      await dialog.getByRole("button", { name: "Remove anyway" }).waitFor();
      await shot(page, "versions-04-pinned-in-use", false);
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await eventually(() => dialog.count()).toBe(0);

      await versions.getByRole("button", { name: `Remove this version (0.2.0 of ${name})` }).click();
      dialog = page.getByRole("alertdialog", { name: `Remove version 0.2.0 of “${name}”?` });
      await dialog.getByRole("button", { name: "Remove", exact: true }).click();
      await eventually(() => dialog.count()).toBe(0);
      await eventually(() => page.getByTestId("plugin-removed").textContent()).toBe(`Removed version 0.2.0 of ${name} (http-post).`);
      const afterRemoval = sender.sent;
      await eventually(() => versions.getByTestId("version-0.2.0").count()).toBe(0);
      await versions.getByTestId("version-0.1.0").getByText("newest").waitFor();
      await expectVersionAfter(tag, afterRemoval, "0.1.0");

      // ---- who uses it: the channel, linked
      await card.getByRole("button", { name: /^Used by: / }).click();
      const usedBy = card.getByRole("list", { name: `Used by (${name})` });
      const item = usedBy.getByRole("listitem").filter({ hasText: "Versioned hook" });
      await item.waitFor();
      expect(await item.textContent()).toContain("runs 0.1.0 (pinned to 0.1.0)");
      await shot(page, "versions-05-removed-unused");

      // ---- stop sending: every message arrived, each delivery sent
      const last = await sender.stop();
      expect(sender.errors, "ingest errors").toEqual([]);
      // Messages arrived before, during and after every change (each phase waited for 3 of its own).
      expect(last).toBeGreaterThanOrEqual(15);
      await waitFor(
        `all ${last} messages at the receiver`,
        async () => new Set((await delivered(tag)).map((d) => d.seq)).size === last,
        60_000,
      ).catch(async (err: Error) => {
        const got = new Set((await delivered(tag)).map((d) => d.seq));
        const missing = [...sender!.ids.keys()].filter((n) => !got.has(n));
        throw new Error(`${err.message}; missing: ${missing.join(", ")}`);
      });
      const statuses = await Promise.all(
        [...sender.ids.values()].map(async (id) =>
          (await apiCall<{ deliveries: { status: string }[] }>(operator, "GET", `/api/messages/${id}`)).deliveries.map((d) => d.status).join(","),
        ),
      );
      expect(statuses.filter((s) => s !== "sent"), "every message has one delivery, sent").toEqual([]);
      const byVersion = (await delivered(tag)).reduce<Record<string, number>>((acc, d) => ({ ...acc, [d.version]: (acc[d.version] ?? 0) + 1 }), {});
      expect(Object.keys(byVersion).sort(), `deliveries by version: ${JSON.stringify(byVersion)}`).toEqual(["0.1.0", "0.2.0"]);
      console.log(`e2e plugin versions: ${last} messages, all sent; delivered by version: ${JSON.stringify(byVersion)}`);

      // ---- the grants are enforced: with only another host allowed, a test send is refused (nothing else is sending now)
      await apiCall(operator, "PUT", "/api/plugins/http-post/grants", {
        allowed_hosts: ["hooks.example.test"],
        allow_private_networks: null,
        memory_mib: 48,
        timeout_ms: 5000,
        capabilities: null,
      });
      const pushesBefore = (await pushes()).length;
      await page.goto(`/channels/${channelId}`);
      await page.getByRole("button", { name: "Send test notification" }).click();
      const refused = page.getByText(/^Test failed/);
      await refused.waitFor();
      console.log(`e2e plugin versions: with allowed_hosts [hooks.example.test] the test send says: ${await refused.textContent()}`);
      expect((await pushes()).length, "nothing reached the receiver").toBe(pushesBefore);
      await navTo(page, "Plugins");

      // ---- removing the pinned version anyway breaks the channel, visibly
      await versions.getByRole("button", { name: `Remove this version (0.1.0 of ${name})` }).click();
      dialog = page.getByRole("alertdialog", { name: `Remove version 0.1.0 of “${name}”?` });
      await dialog.getByRole("button", { name: "Remove", exact: true }).click();
      await dialog.getByRole("button", { name: "Remove anyway" }).click();
      await eventually(() => dialog.count()).toBe(0);
      await navTo(page, "Channels");
      await row.getByTestId("channel-broken-badge").waitFor();
      expect(await row.getByTestId("channel-broken-badge").textContent()).toBe("broken: plugin version not installed");
      await shot(page, "versions-06-channels-broken", false);
      await row.getByRole("link", { name: "Versioned hook", exact: true }).click();
      await page.getByTestId("channel-broken").waitFor();
      await shot(page, "versions-07-broken-channel");
      expectCleanPage(page);
    } finally {
      await sender?.stop();
      await context.close();
      // Leave the server's plugins as the other tests expect them, whatever happened above.
      if (channelId) await apiCall(operator, "DELETE", `/api/channels/${channelId}`).catch(() => undefined);
      await apiCall(operator, "DELETE", "/api/plugins/http-post?force=true").catch(() => undefined);
    }
  });

  it("a rule's extra filter is pinned to a version in the rule editor; an unknown version is refused naming the filter", async () => {
    const user = await seedUser("xfpin");
    const channel = await seedBarkChannel(user, "Pin phone", `xfpin-${randomBytes(4).toString("hex")}`);
    const plugins = await apiCall<{ items: { id: string; versions?: { version: string }[] }[] }>(user, "GET", "/api/plugins");
    const dedupe = plugins.items.find((p) => p.id === "dedupe")!;
    const pinned = dedupe.versions![0].version;
    const { page, context } = await newPage(browser);
    try {
      await logIn(page, user.email, user.password);
      await page.goto("/rules/new");
      await page.getByLabel("Name", { exact: true }).fill("Deduplicated, pinned");
      await page.getByLabel("Channel", { exact: true }).selectOption(channel.id);
      await page.getByRole("button", { name: "Add extra filter" }).click();
      const extra = page.getByRole("group", { name: "Extra filter 1" });
      await extra.getByLabel("Filter plugin", { exact: true }).selectOption("dedupe");
      const version = extra.getByLabel("Filter plugin version", { exact: true });
      expect(await version.inputValue(), "follows the newest by default").toBe("");
      await version.selectOption(pinned);
      await extra.getByLabel(/^Window seconds/).fill("300");
      await page.getByRole("button", { name: "Create rule" }).click();
      await page.getByText(/Rule created/).waitFor();
      const ruleId = /\/rules\/([0-9a-f]{32})$/.exec(page.url())?.[1];
      expect(ruleId).toBeTruthy();
      const stored = await apiCall<{ extra_filters: { plugin: string; version?: string | null }[] }>(user, "GET", `/api/rules/${ruleId}`);
      expect(stored.extra_filters).toMatchObject([{ plugin: "dedupe", version: pinned }]);
      await page.reload();
      expect(await page.getByRole("group", { name: "Extra filter 1" }).getByLabel("Filter plugin version", { exact: true }).inputValue()).toBe(pinned);
      await shot(page, "versions-08-rule-filter-pinned");

      // The server refuses a version that is not installed, naming the filter's version field.
      const res = await fetch(`${stack().baseUrl}/api/rules/${ruleId}`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${user.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({
          name: "Deduplicated, pinned",
          enabled: true,
          channel_id: channel.id,
          filter: {},
          extra_filters: [{ plugin: "dedupe", version: "9.9.9", config: { window_seconds: 300 } }],
          payload_template: { title: "{{message.title}}", body: "{{message.body}}" },
        }),
      });
      const body = (await res.json()) as { error?: { code: string; field?: string; message: string } };
      console.log(`e2e plugin versions: PUT a rule pinning dedupe 9.9.9 → HTTP ${res.status} ${JSON.stringify(body.error)}`);
      expect(res.status).toBe(422);
      expect(body.error?.field).toMatch(/^extra_filters(\[0\]|\.0)\.version$/);
      expectCleanPage(page);
    } finally {
      await context.close();
    }
  });
});
