/**
 * Scheduled delivery against the real server: a message ingested with
 * `"delay": "10m"` is stored at once and its delivery waits; the dashboard
 * lists it under *Scheduled only* with a badge (a message sent without delay
 * is delivered and not listed there), its page says when it leaves, and
 * *Cancel scheduled delivery* deletes it so nothing is sent.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanPage, horizontalOverflow, launch, logIn, newPage, PHONE, shot } from "./support/browser";
import {
  apiCall,
  ApiFailure,
  deliveriesOf,
  eventually,
  ingest,
  pushes,
  seedBarkChannel,
  seedEndpoint,
  seedRule,
  seedUser,
  waitFor,
} from "./support/env";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

interface Detail {
  id: string;
  deliver_at?: string | null;
  deliveries: { id: string; status: string; next_attempt_at: string | null; last_error: string | null }[];
}

const MIN = 60_000;
const mainOf = (page: Page) => page.getByRole("main");
const pushesTo = async (deviceKey: string) => (await pushes()).filter((p) => (p.json as { device_key?: string })?.device_key === deviceKey);

describe("scheduled delivery", () => {
  it("a delayed message waits under “Scheduled only” with its badge, and cancelling it deletes it before anything is sent", async () => {
    const user = await seedUser("scheduled");
    const endpoint = await seedEndpoint(user, "reminders");
    const deviceKey = `scheduled-${user.email.split("@")[0]}`;
    const channel = await seedBarkChannel(user, "Kitchen phone", deviceKey);
    await seedRule(user, { name: "Everything to the kitchen", channel_id: channel.id, filter: {}, payload_template: { title: "{{message.title}}", body: "{{message.body}}" } });

    // One message now, one in ten minutes, through the ingest URL as a script would send them.
    const nowId = await ingest(endpoint, { title: "Sent right away", body: "no delay on this one" });
    const sentAt = Date.now();
    const laterId = await ingest(endpoint, { title: "Take the bins out", body: "in ten minutes, please", delay: "10m" });

    // The server stored it at once, with its time, and its delivery waits for that time.
    const later = await apiCall<Detail>(user, "GET", `/api/messages/${laterId}`);
    expect(later.deliver_at, "deliver_at of the delayed message").toEqual(expect.any(String));
    const deliverAt = later.deliver_at!;
    expect(Math.abs(Date.parse(deliverAt) - (sentAt + 10 * MIN)), "deliver_at is about 10 min after ingest").toBeLessThan(MIN);
    expect(later.deliveries.map((d) => d.status)).toEqual(["queued"]);
    expect(Date.parse(later.deliveries[0].next_attempt_at ?? ""), "the delivery is due at the scheduled time").toBe(Date.parse(deliverAt));
    const plain = await apiCall<Detail>(user, "GET", `/api/messages/${nowId}`);
    expect(plain.deliver_at ?? null, "a message sent without delay is not scheduled").toBeNull();
    // The plain one is delivered; the delayed one is not.
    await waitFor("the undelayed message to be delivered", async () => (await deliveriesOf(user, nowId)).every((d) => d.status === "sent"), 30_000);
    expect((await pushesTo(deviceKey)).map((p) => (p.json as { title?: string }).title)).toEqual(["Sent right away"]);
    expect((await deliveriesOf(user, laterId)).map((d) => d.status)).toEqual(["queued"]);
    // The API's own filter: only the delayed one.
    const listed = await apiCall<{ items: { id: string; deliver_at?: string | null }[] }>(user, "GET", "/api/messages?scheduled=true");
    expect(listed.items.map((m) => m.id)).toEqual([laterId]);
    expect(listed.items[0].deliver_at).toBe(deliverAt);

    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);
    await page.goto("/messages");
    const main = page.getByRole("main");
    const rowOf = (title: string) => main.getByRole("row").filter({ has: page.getByRole("link", { name: new RegExp(title) }) });
    await rowOf("Take the bins out").waitFor();
    await rowOf("Sent right away").waitFor();
    // The badge: “Scheduled · <local time>” (the browser runs in UTC, en-GB).
    const badge = rowOf("Take the bins out").getByTestId("scheduled-badge");
    const hhmm = new Date(deliverAt).toISOString().slice(11, 16);
    await eventually(() => badge.textContent()).toMatch(new RegExp(`^Scheduled · .*${hhmm}$`));
    expect(await badge.locator("time").getAttribute("datetime")).toBe(deliverAt);
    expect(await rowOf("Sent right away").getByTestId("scheduled-badge").count(), "no badge on the plain message").toBe(0);

    // Scheduled only: the delayed message, not the plain one; kept in the URL.
    await page.getByRole("checkbox", { name: "Scheduled only" }).check();
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL((url) => url.searchParams.get("scheduled") === "true");
    await page.getByText(/^Showing 1 message\.$/).waitFor();
    expect(await main.locator("a.message-link").evaluateAll((as) => as.map((a) => a.getAttribute("href")))).toEqual([`/messages/${laterId}`]);
    await rowOf("Take the bins out").getByTestId("scheduled-badge").waitFor();
    expect(await page.getByTestId("active-filter-count").textContent()).toBe("1 active");
    await shot(page, "scheduled-01-list");
    // A reload keeps the filter.
    await page.reload();
    await rowOf("Take the bins out").waitFor();
    expect(await page.getByRole("checkbox", { name: "Scheduled only" }).isChecked()).toBe(true);
    expect(await rowOf("Sent right away").count()).toBe(0);

    // The same list on a phone: the badge is there and nothing sticks out.
    {
      const phone = await newPage(browser, PHONE);
      await logIn(phone.page, user.email, user.password);
      await phone.page.goto("/messages?scheduled=true");
      await phone.page.getByTestId("scheduled-badge").waitFor();
      expect(await horizontalOverflow(phone.page)).toBeNull();
      await shot(phone.page, "scheduled-02-list-phone");
      expectCleanPage(phone.page);
      await phone.context.close();
    }

    // Its page: when it leaves and how soon, and its delivery waiting.
    await rowOf("Take the bins out").getByRole("link").click();
    await page.waitForURL(`**/messages/${laterId}`);
    const panel = page.getByRole("region", { name: "Scheduled delivery" });
    await eventually(() => panel.textContent()).toMatch(/^Scheduled for .+ \(in (9|10) min\)\. Its deliveries wait until then\./);
    expect(await panel.locator("time").getAttribute("datetime")).toBe(deliverAt);
    const delivery = page.getByRole("list", { name: "Deliveries" }).getByRole("listitem", { name: "Delivery to Kitchen phone" });
    expect(await delivery.getByTestId("delivery-status").textContent()).toBe("queued");
    await shot(page, "scheduled-03-detail");

    // Cancel: asked first; keeping it changes nothing.
    await panel.getByRole("button", { name: "Cancel scheduled delivery" }).click();
    const dialog = page.getByRole("alertdialog", { name: "Cancel the scheduled delivery?" });
    await dialog.waitFor();
    await shot(page, "scheduled-04-cancel-dialog", false);
    await dialog.getByRole("button", { name: "Keep it scheduled" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect((await apiCall<Detail>(user, "GET", `/api/messages/${laterId}`)).id).toBe(laterId);
    await panel.getByRole("button", { name: "Cancel scheduled delivery" }).click();
    await dialog.getByRole("button", { name: "Cancel delivery", exact: true }).click();

    // Back at the list, which says what happened and no longer has it.
    await page.waitForURL((url) => url.pathname === "/messages");
    await eventually(() => page.getByTestId("messages-notice").textContent()).toBe(
      "Cancelled the scheduled delivery of “Take the bins out”: the message was deleted.",
    );
    await rowOf("Sent right away").waitFor();
    expect(await rowOf("Take the bins out").count(), "the cancelled message is gone from the list").toBe(0);
    await shot(page, "scheduled-05-cancelled");
    await page.getByRole("checkbox", { name: "Scheduled only" }).check();
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByRole("heading", { name: "No scheduled messages" }).waitFor();

    // On the server: the message is gone, nothing scheduled is left, and nothing was pushed for it.
    const gone = await apiCall(user, "GET", `/api/messages/${laterId}`).then(
      () => "still there",
      (err: unknown) => (err instanceof ApiFailure && /HTTP 404/.test(err.message) ? "404" : String(err)),
    );
    expect(gone).toBe("404");
    expect((await apiCall<{ items: unknown[] }>(user, "GET", "/api/messages?scheduled=true")).items).toEqual([]);
    // The deliveries list leaves out a deleted message's deliveries; any it still shows must say they were cancelled.
    const left = await apiCall<{ items: { message_id: string; status: string; last_error: string | null }[] }>(user, "GET", "/api/deliveries?limit=100");
    for (const d of left.items.filter((d) => d.message_id === laterId)) {
      expect(d).toMatchObject({ status: "failed", last_error: expect.stringContaining("cancelled") });
    }
    expect((await pushesTo(deviceKey)).map((p) => (p.json as { title?: string }).title)).toEqual(["Sent right away"]);
    expectCleanPage(page);
    await context.close();
  });

  it("at its time a scheduled message is delivered and reads “Was scheduled for …”; one cancelled in the dashboard before then is never sent", async () => {
    const user = await seedUser("scheduled-due");
    const endpoint = await seedEndpoint(user, "timers");
    const deviceKey = `due-${user.email.split("@")[0]}`;
    const channel = await seedBarkChannel(user, "Hall phone", deviceKey);
    await seedRule(user, { name: "Timers to the hall", channel_id: channel.id, filter: {}, payload_template: { title: "{{message.title}}", body: "{{message.body}}" } });
    // Both due at the same moment, soon: one is cancelled in the dashboard, the other left alone.
    const keepId = await ingest(endpoint, { title: "Tea is ready", body: "left alone", delay: "30s" });
    const cancelId = await ingest(endpoint, { title: "Oven timer", body: "cancelled before its time", delay: "30s" });
    const keepAt = (await apiCall<Detail>(user, "GET", `/api/messages/${keepId}`)).deliver_at!;
    const cancelAt = (await apiCall<Detail>(user, "GET", `/api/messages/${cancelId}`)).deliver_at!;
    expect(Math.abs(Date.parse(keepAt) - Date.parse(cancelAt))).toBeLessThan(5_000);

    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);
    await page.goto(`/messages/${cancelId}`);
    const panel = page.getByRole("region", { name: "Scheduled delivery" });
    await panel.getByRole("button", { name: "Cancel scheduled delivery" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Cancel delivery", exact: true }).click();
    await page.getByTestId("messages-notice").waitFor();
    expect(Date.now(), "cancelled before its time (the test was too slow otherwise)").toBeLessThan(Date.parse(cancelAt));

    // The other one's page: scheduled now, then, without a reload, delivered and “Was scheduled for …”.
    await page.goto(`/messages/${keepId}`);
    await panel.waitFor();
    const delivery = page.getByRole("list", { name: "Deliveries" }).getByRole("listitem", { name: "Delivery to Hall phone" });
    expect(await delivery.getByTestId("delivery-status").textContent()).toBe("queued");
    await expect
      .poll(() => delivery.getByTestId("delivery-status").textContent(), { timeout: 60_000, interval: 250, message: "status at the scheduled time" })
      .toBe("sent");
    await eventually(() => page.getByTestId("message-schedule").textContent(), { timeout: 30_000 }).toMatch(/^Was scheduled for .+\.$/);
    expect(await panel.count(), "no cancel button once the time has passed").toBe(0);
    await shot(page, "scheduled-06-was-scheduled");

    const got = await pushesTo(deviceKey);
    expect(got.map((p) => (p.json as { title?: string }).title)).toEqual(["Tea is ready"]);
    expect(Date.parse(got[0].receivedAt), "not pushed before its time").toBeGreaterThanOrEqual(Date.parse(keepAt) - 1_000);
    // The cancelled one was due at the same moment: give the worker a few more polls, then it must still be missing.
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await pushesTo(deviceKey)).map((p) => (p.json as { title?: string }).title)).toEqual(["Tea is ready"]);
    // No longer under Scheduled only, and the list badge is gone.
    await page.goto("/messages");
    await mainOf(page).getByRole("link", { name: /Tea is ready/ }).waitFor();
    expect(await page.getByTestId("scheduled-badge").count()).toBe(0);
    expect(await mainOf(page).getByRole("link", { name: /Oven timer/ }).count()).toBe(0);
    expect((await apiCall<{ items: unknown[] }>(user, "GET", "/api/messages?scheduled=true")).items).toEqual([]);
    expectCleanPage(page);
    await context.close();
  });
});
