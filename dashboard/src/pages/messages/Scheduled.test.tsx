import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Delivery, MessageDetail, MessageSummary } from "../../api/types";
import { formatDateTime, formatShort } from "../../lib/format";
import { ENDPOINTS, signedIn } from "../../test/fixtures";
import { apiError, json, mockFetch } from "../../test/http";
import { renderApp } from "../../test/render";

afterEach(() => vi.unstubAllGlobals());

const MIN = 60_000;
const inMinutes = (n: number) => new Date(Date.now() + n * MIN).toISOString();

const summary = (id: string, over: Partial<MessageSummary> = {}): MessageSummary => ({
  id,
  received_at: "2025-03-01T12:00:00Z",
  endpoint_id: "e1",
  endpoint_name: "backups",
  title: `Message ${id}`,
  body_preview: "body",
  priority: 3,
  tags: [],
  group: null,
  url: null,
  deliveries: { total: 1, sent: 0, failed: 0, pending: 1 },
  ...over,
});

const queued: Delivery = {
  id: "d1",
  message_id: "m1",
  rule_id: "r1",
  rule_name: "Everything",
  channel_id: "c1",
  channel_name: "My iPhone",
  status: "queued",
  attempt_count: 0,
  next_attempt_at: null,
  last_error: null,
  created_at: "2025-03-01T12:00:00Z",
  updated_at: "2025-03-01T12:00:00Z",
  sent_at: null,
  attempts: [],
};

const detail = (over: Partial<MessageDetail> = {}): MessageDetail => ({
  id: "m1",
  received_at: "2025-03-01T12:00:00Z",
  endpoint: { id: "e1", name: "backups" },
  title: "Reminder",
  body: "take the bins out",
  group: null,
  priority: 3,
  tags: [],
  url: null,
  extras: {},
  request: { content_type: "application/json", remote_ip: null, user_agent: null, headers: {}, query: {}, size_bytes: 10 },
  filter_errors: [],
  deliveries: [queued],
  ...over,
});

const row = (title: string) => screen.getByRole("link", { name: new RegExp(title) }).closest("tr")!;

describe("message list: scheduled messages", () => {
  it("badges rows whose time is ahead, not past ones or those of an older server", async () => {
    const ahead = inMinutes(90);
    mockFetch(
      signedIn(({ url }) => {
        if (url.startsWith("/api/messages"))
          return json(200, {
            items: [
              summary("m1", { title: "Ahead", deliver_at: ahead }),
              summary("m2", { title: "Was due", deliver_at: inMinutes(-5), deliveries: { total: 1, sent: 1, failed: 0, pending: 0 } }),
              summary("m3", { title: "Plain", deliver_at: null }),
              summary("m4", { title: "Old server" }),
            ],
            next_cursor: null,
          });
        if (url.startsWith("/api/ingest-endpoints")) return json(200, { items: ENDPOINTS });
        return json(404, {});
      }),
    );
    renderApp("/messages");
    await screen.findByRole("link", { name: /Ahead/ });
    const badge = within(row("Ahead")).getByTestId("scheduled-badge");
    expect(badge).toHaveTextContent(`Scheduled · ${formatShort(ahead)}`);
    expect(within(badge).getByText(formatShort(ahead)).closest("time")).toHaveAttribute("datetime", ahead);
    // Its deliveries are still counted next to it.
    expect(within(row("Ahead")).getByText("1 pending")).toBeInTheDocument();
    for (const t of ["Was due", "Plain", "Old server"]) expect(within(row(t)).queryByTestId("scheduled-badge")).toBeNull();
  });

  it("the Scheduled only filter goes into the URL and the query, counts as active, and has its own empty state", async () => {
    const spy = mockFetch(
      signedIn(({ url }) => {
        if (url.startsWith("/api/messages?") && new URL(url, "http://x").searchParams.get("scheduled") === "true")
          return json(200, { items: [], next_cursor: null });
        if (url.startsWith("/api/messages")) return json(200, { items: [summary("m3", { title: "Plain" })], next_cursor: null });
        if (url.startsWith("/api/ingest-endpoints")) return json(200, { items: ENDPOINTS });
        return json(404, {});
      }),
    );
    const { user, router } = renderApp("/messages");
    await screen.findByRole("link", { name: /Plain/ });
    const box = screen.getByRole("checkbox", { name: "Scheduled only" });
    expect(box).not.toBeChecked();
    await user.click(box);
    await user.click(screen.getByRole("button", { name: "Apply" }));
    await screen.findByRole("heading", { name: "No scheduled messages" });
    expect(router.state.location.search).toBe("?scheduled=true");
    expect(screen.getByTestId("active-filter-count")).toHaveTextContent("1 active");
    expect(spy.mock.calls.map((c) => String(c[0])).filter((u) => u.startsWith("/api/messages"))).toEqual([
      "/api/messages?limit=50",
      "/api/messages?scheduled=true&limit=50",
    ]);

    // With another filter it is the general empty state; Clear turns it off.
    await user.type(screen.getByLabelText("Text"), "disk");
    await user.click(screen.getByRole("button", { name: "Apply" }));
    await screen.findByRole("heading", { name: "No messages match these filters" });
    expect(router.state.location.search).toBe("?q=disk&scheduled=true");
    await user.click(screen.getByRole("button", { name: "Clear" }));
    await screen.findByRole("link", { name: /Plain/ });
    expect(router.state.location.search).toBe("");
    expect(screen.getByRole("checkbox", { name: "Scheduled only" })).not.toBeChecked();
  });

  it("a deep link with scheduled=true shows the box ticked", async () => {
    mockFetch(
      signedIn(({ url }) => {
        if (url.startsWith("/api/messages")) return json(200, { items: [summary("m1", { deliver_at: inMinutes(30) })], next_cursor: null });
        if (url.startsWith("/api/ingest-endpoints")) return json(200, { items: ENDPOINTS });
        return json(404, {});
      }),
    );
    renderApp("/messages?scheduled=true");
    await screen.findByTestId("scheduled-badge");
    expect(screen.getByRole("checkbox", { name: "Scheduled only" })).toBeChecked();
  });
});

describe("message detail: scheduled delivery", () => {
  function server(message: MessageDetail, remove: () => Response = () => new Response(null, { status: 204 })) {
    return mockFetch(
      signedIn(({ url, method }) => {
        if (url === "/api/messages/m1" && method === "DELETE") return remove();
        if (url === "/api/messages/m1") return json(200, message);
        if (url.startsWith("/api/messages")) return json(200, { items: [], next_cursor: null });
        if (url.startsWith("/api/ingest-endpoints")) return json(200, { items: ENDPOINTS });
        return json(404, {});
      }),
    );
  }
  const deletes = (spy: ReturnType<typeof mockFetch>) => spy.mock.calls.filter((c) => c[0] === "/api/messages/m1" && c[1]?.method === "DELETE");

  it("says when a future one leaves and how soon", async () => {
    // 14 minutes less a few seconds: minutes round up.
    const at = new Date(Date.now() + 14 * MIN - 5_000).toISOString();
    server(detail({ deliver_at: at }));
    renderApp("/messages/m1");
    const panel = await screen.findByRole("region", { name: "Scheduled delivery" });
    expect(panel).toHaveTextContent(`Scheduled for ${formatDateTime(at)} (in 14 min). Its deliveries wait until then.`);
    expect(within(panel).getByRole("button", { name: "Cancel scheduled delivery" })).toBeInTheDocument();
  });

  it("cancelling asks first; keeping it changes nothing; confirming deletes it and returns to the list with a notice", async () => {
    const spy = server(detail({ deliver_at: inMinutes(10) }));
    const { user, router } = renderApp("/messages/m1");
    await user.click(await screen.findByRole("button", { name: "Cancel scheduled delivery" }));
    let dialog = await screen.findByRole("alertdialog", { name: "Cancel the scheduled delivery?" });
    expect(dialog).toHaveTextContent("The message is deleted, so its deliveries due");
    await user.click(within(dialog).getByRole("button", { name: "Keep it scheduled" }));
    await waitFor(() => expect(screen.queryByRole("alertdialog")).toBeNull());
    expect(deletes(spy)).toHaveLength(0);

    await user.click(screen.getByRole("button", { name: "Cancel scheduled delivery" }));
    dialog = await screen.findByRole("alertdialog", { name: "Cancel the scheduled delivery?" });
    await user.click(within(dialog).getByRole("button", { name: "Cancel delivery" }));
    expect(await screen.findByTestId("messages-notice")).toHaveTextContent(
      "Cancelled the scheduled delivery of “Reminder”: the message was deleted.",
    );
    expect(router.state.location.pathname).toBe("/messages");
    expect(deletes(spy)).toHaveLength(1);
    // The notice goes with the next navigation.
    await user.click(screen.getByRole("checkbox", { name: "Scheduled only" }));
    await user.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(screen.queryByTestId("messages-notice")).toBeNull());
  });

  it("a refused cancel stays on the page and says why; one already deleted counts as done", async () => {
    let answer = () => apiError(500, "internal", "boom");
    const spy = server(detail({ deliver_at: inMinutes(10) }), () => answer());
    const { user, router } = renderApp("/messages/m1");
    await user.click(await screen.findByRole("button", { name: "Cancel scheduled delivery" }));
    const dialog = await screen.findByRole("alertdialog");
    await user.click(within(dialog).getByRole("button", { name: "Cancel delivery" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("boom");
    expect(router.state.location.pathname).toBe("/messages/m1");

    answer = () => apiError(404, "not_found", "no such message");
    await user.click(within(dialog).getByRole("button", { name: "Cancel delivery" }));
    expect(await screen.findByTestId("messages-notice")).toHaveTextContent("Cancelled the scheduled delivery");
    expect(deletes(spy)).toHaveLength(2);
  });

  it("a past schedule reads “Was scheduled for …”, without a cancel button; an unscheduled message says nothing", async () => {
    const at = inMinutes(-3);
    server(detail({ deliver_at: at, deliveries: [{ ...queued, status: "sent", attempt_count: 1 }] }));
    const first = renderApp("/messages/m1");
    expect(await screen.findByTestId("message-schedule")).toHaveTextContent(`Was scheduled for ${formatDateTime(at)}.`);
    expect(screen.queryByRole("button", { name: "Cancel scheduled delivery" })).toBeNull();
    first.unmount();

    server(detail({ deliver_at: null }));
    renderApp("/messages/m1");
    await screen.findByRole("heading", { name: "Reminder" });
    expect(screen.queryByTestId("message-schedule")).toBeNull();
    expect(screen.queryByRole("button", { name: "Cancel scheduled delivery" })).toBeNull();
  });

  it("the plain Delete also returns to the list with a notice", async () => {
    server(detail({ deliver_at: null }));
    const { user } = renderApp("/messages/m1");
    await user.click(await screen.findByRole("button", { name: "Delete" }));
    const dialog = await screen.findByRole("alertdialog", { name: "Delete this message?" });
    await user.click(within(dialog).getByRole("button", { name: "Delete" }));
    expect(await screen.findByTestId("messages-notice")).toHaveTextContent("Deleted “Reminder”.");
  });
});
