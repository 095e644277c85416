/**
 * Ingest adapters against the real server: an endpoint made in the dashboard
 * chooses the built-in `json-map` adapter through its schema-drawn form; a
 * pasted sample is tested with the unsaved settings (the messages it would
 * become, and the `adapter_refused` answer for a body that is not JSON); once
 * saved, the sender's own JSON posted to the ingest URL (key as a Bearer
 * header, and in the `?key=` form shown on the page) becomes messages in the
 * list with the mapped title.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanPage, horizontalOverflow, launch, logIn, navTo, newPage, PHONE, shot } from "./support/browser";
import { apiCall, eventually, seedUser, stack } from "./support/env";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

interface EndpointJson {
  id: string;
  adapter: { plugin: string; plugin_version: string | null; config: Record<string, unknown>; running_version: string | null } | null;
}

interface MessageJson {
  title: string | null;
  body: string;
  endpoint: { id: string };
}

const SAMPLE = '{"service":"db","msg":"disk full"}';

/** A required field of the schema-drawn form (its label ends in an aria-hidden " *"). */
const textbox = (page: Page, name: string) => page.getByRole("textbox", { name, exact: true });

/** POST a body to an ingest URL as a sender would; the status and the parsed answer. */
async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: { message_id: string | null; message_ids?: string[] } }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body,
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, json: (await res.json()) as { message_id: string | null; message_ids?: string[] } };
}

describe("ingest adapters", () => {
  it("json-map chosen and tested on a sample in the dashboard; then the sender's JSON becomes messages", async () => {
    const user = await seedUser("adapters");
    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);

    // A new endpoint, its key read from the dialog as a user would copy it.
    await navTo(page, "Endpoints");
    await page.getByRole("button", { name: "New endpoint" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name", { exact: true }).fill("monitoring");
    await dialog.getByRole("button", { name: "Create endpoint" }).click();
    const key = ((await dialog.locator(".copy-value", { hasText: "Ingest key" }).locator("code").textContent()) ?? "").trim();
    const url = ((await dialog.locator(".copy-value", { hasText: "Ingest URL" }).locator("code").textContent()) ?? "").trim();
    expect(key.length).toBeGreaterThan(20);
    expect(url).toMatch(new RegExp(`^${stack().baseUrl.replace(/\./g, "\\.")}/api/ingest/[0-9a-f]{32}$`));
    const endpointId = url.split("/").at(-1)!;
    await dialog.getByRole("button", { name: "I have stored the key" }).click();
    await eventually(() => page.getByRole("dialog").count()).toBe(0);

    // Its page, from the list: no adapter yet, and the URL forms to give senders.
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: "monitoring", exact: true }) });
    await eventually(() => row.getByRole("cell", { name: "none" }).count()).toBe(1);
    await row.getByRole("link", { name: "monitoring", exact: true }).click();
    await page.waitForURL(`**/endpoints/${endpointId}`);
    await page.getByRole("heading", { name: "monitoring", level: 1 }).waitFor();
    await eventually(() => page.getByTestId("adapter-current").textContent()).toBe("Adapter: None — requests are Beacon's own JSON/text body.");
    const urlForms = await page.locator(".endpoint-detail .copy-value code").allTextContents();
    expect(urlForms).toEqual([url, "Authorization: Bearer <ingest key>", `${url}?key=<ingest key>`]);

    // Choose json-map: its form is drawn from the plugin's schema.
    await page.getByLabel("Adapter plugin", { exact: true }).selectOption("json-map");
    const settings = page.getByRole("group", { name: "Settings for JSON mapping" });
    await settings.waitFor();
    await textbox(page, "Body").fill("/msg");
    await textbox(page, "Title").fill("{{/service}}");
    await shot(page, "adapters-01-json-map-form");

    // Test a pasted sample with the unsaved settings: the message it would become.
    const panel = page.getByRole("region", { name: "Test with a sample" });
    await panel.getByLabel("Sample request body").fill(SAMPLE);
    await panel.getByRole("button", { name: "Test", exact: true }).click();
    const messages = panel.getByRole("list", { name: "Messages it would become" });
    await messages.waitFor();
    const first = messages.getByRole("listitem", { name: "Message 1" });
    await eventually(() => first.textContent()).toContain("disk full");
    expect(await first.locator("dt:text-is('Title') + dd").textContent()).toBe("db");
    expect(await first.locator("pre.body-text").textContent()).toBe("disk full");
    expect(await panel.getByTestId("adapter-test-summary").textContent()).toBe(
      "Accepted: the sender would get HTTP 201, and 1 message would be stored.",
    );
    await shot(page, "adapters-02-test-result");

    // A body that is not JSON: the refusal the sender would get.
    await panel.getByLabel("Sample request body").fill("this is not json");
    await panel.getByRole("button", { name: "Test", exact: true }).click();
    const refused = panel.getByTestId("adapter-test-error");
    await eventually(() => refused.textContent()).toContain("adapter_refused");
    expect(await refused.textContent()).toContain("Refused: the sender would get HTTP 422.");
    expect(await refused.textContent()).toMatch(/adapter_refused: the json-map adapter could not read this request: the body is not JSON/);
    expect(await messages.count(), "no messages shown for a refused sample").toBe(0);
    await shot(page, "adapters-03-test-refused");

    // Nothing was saved by testing.
    expect((await apiCall<EndpointJson>(user, "GET", `/api/ingest-endpoints/${endpointId}`)).adapter).toBeNull();

    // Save: the page and the API agree.
    await page.getByRole("button", { name: "Save adapter" }).click();
    await eventually(() => page.getByTestId("adapter-notice").textContent()).toBe(
      "Adapter saved: requests to this endpoint now go through JSON mapping.",
    );
    await eventually(() => page.getByTestId("adapter-current").textContent()).toMatch(/^Adapter: JSON mapping \(json-map\), version \S+ \(follows the newest\)\.$/);
    const saved = await apiCall<EndpointJson>(user, "GET", `/api/ingest-endpoints/${endpointId}`);
    expect(saved.adapter).toMatchObject({ plugin: "json-map", plugin_version: null, config: { body: "/msg", title: "{{/service}}" } });
    expect(saved.adapter?.running_version).toEqual(expect.any(String));
    await shot(page, "adapters-04-saved");

    // The sender posts its own JSON: the key as a Bearer header…
    const sent = await post(url, SAMPLE, { Authorization: `Bearer ${key}` });
    expect(sent.status, JSON.stringify(sent.json)).toBe(201);
    expect(sent.json.message_ids).toEqual([sent.json.message_id]);
    // …and in the ?key= form the page shows for senders that can set no header.
    const keyForm = urlForms[2].replace("<ingest key>", encodeURIComponent(key));
    const viaQuery = await post(keyForm, '{"service":"web","msg":"slow responses"}');
    expect(viaQuery.status, JSON.stringify(viaQuery.json)).toBe(201);
    // Without the key: refused, nothing stored.
    expect((await post(url, SAMPLE)).status).toBe(401);

    const stored = await apiCall<MessageJson>(user, "GET", `/api/messages/${sent.json.message_id}`);
    expect(stored).toMatchObject({ title: "db", body: "disk full", endpoint: { id: endpointId } });

    // The messages list shows both, titled by the mapping.
    await navTo(page, "Messages");
    const main = page.getByRole("main");
    const link = main.locator("a.message-link", { hasText: "disk full" });
    await link.waitFor();
    expect(await link.locator(".strong").textContent()).toBe("db");
    await main.locator("a.message-link", { hasText: "slow responses" }).waitFor();
    expect(await main.locator("a.message-link", { hasText: "slow responses" }).locator(".strong").textContent()).toBe("web");
    expect(await main.locator("a.message-link").count()).toBe(2);
    await shot(page, "adapters-05-messages");
    expectCleanPage(page);

    // The endpoint page on a phone: everything fits.
    const phone = await newPage(browser, PHONE);
    await logIn(phone.page, user.email, user.password);
    await phone.page.goto(`/endpoints/${endpointId}`);
    await phone.page.getByRole("group", { name: "Settings for JSON mapping" }).waitFor();
    expect(await horizontalOverflow(phone.page)).toBeNull();
    await shot(phone.page, "adapters-06-phone");
    expectCleanPage(phone.page);
    await phone.context.close();
    await context.close();
  });
});
