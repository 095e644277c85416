import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Delivery, MessageDetail } from "../../api/types";
import { apiError, json, mockFetch } from "../../test/http";
import { signedIn } from "../../test/fixtures";
import { renderApp } from "../../test/render";

afterEach(() => vi.unstubAllGlobals());

const sent: Delivery = {
  id: "d1",
  message_id: "m1",
  rule_id: "r1",
  rule_name: "Everything",
  channel_id: "c1",
  channel_name: "My iPhone",
  status: "sent",
  attempt_count: 1,
  next_attempt_at: null,
  last_error: null,
  created_at: "2025-03-01T12:00:00Z",
  updated_at: "2025-03-01T12:00:01Z",
  sent_at: "2025-03-01T12:00:01Z",
  attempts: [
    {
      attempt_no: 1,
      started_at: "2025-03-01T12:00:00Z",
      duration_ms: 120,
      outcome: "sent",
      http_status: 200,
      error: null,
      response_snippet: '{"code":200,"message":"success"}',
      response_json: { code: 200 },
    },
  ],
};

const failed: Delivery = {
  ...sent,
  id: "d2",
  rule_name: "Ops hook",
  channel_id: "c2",
  channel_name: "Webhook",
  status: "failed",
  attempt_count: 2,
  last_error: "HTTP 500 from the server",
  sent_at: null,
  attempts: [
    { ...sent.attempts[0], outcome: "retry", http_status: 500, error: "HTTP 500", response_snippet: "oops" },
    { ...sent.attempts[0], attempt_no: 2, outcome: "failed", http_status: 400, error: "HTTP 400 <b>not html</b>", response_snippet: null },
  ],
};

const message = (deliveries: Delivery[]): MessageDetail => ({
  id: "m1",
  received_at: "2025-03-01T12:00:00Z",
  endpoint: { id: "e1", name: "backups" },
  title: "Disk full",
  body: "disk full on nas",
  group: null,
  priority: 4,
  tags: [],
  url: null,
  extras: {},
  request: { content_type: "application/json", remote_ip: null, user_agent: null, headers: {}, query: {}, size_bytes: 10 },
  filter_errors: [{ rule_id: "r3", rule_name: "Regex rule", matched: false, error: "standard-filter: trapped" }],
  deliveries,
});

describe("message detail deliveries", () => {
  it("shows each delivery with status, attempts and a retry button for failed ones", async () => {
    let retried = false;
    const spy = mockFetch(
      signedIn(({ url, method }) => {
        if (url === "/api/messages/m1") return json(200, message([sent, retried ? { ...failed, status: "queued" } : failed]));
        if (url === "/api/deliveries/d2/retry" && method === "POST") {
          retried = true;
          return json(200, { ...failed, status: "queued", attempts: [] });
        }
        return json(404, {});
      }),
    );
    const { user } = renderApp("/messages/m1");
    const list = await screen.findByRole("list", { name: "Deliveries" });
    expect(within(list).getAllByTestId("delivery-status").map((el) => el.textContent)).toEqual(["sent", "failed"]);
    const phone = within(list).getByRole("listitem", { name: "Delivery to My iPhone" });
    expect(within(phone).queryByRole("button", { name: /Retry/ })).toBeNull();
    expect(within(phone).getByRole("link", { name: "My iPhone" })).toHaveAttribute("href", "/channels/c1");
    const hook = within(list).getByRole("listitem", { name: "Delivery to Webhook" });
    expect(within(hook).getByText("HTTP 400 <b>not html</b>")).toBeInTheDocument();
    expect(within(hook).getAllByRole("row")).toHaveLength(3);
    expect(screen.getByText(/standard-filter: trapped/)).toBeInTheDocument();

    await user.click(within(hook).getByRole("button", { name: "Retry delivery to Webhook" }));
    await waitFor(() =>
      expect(within(screen.getByRole("list", { name: "Deliveries" })).getAllByTestId("delivery-status").map((el) => el.textContent)).toEqual([
        "sent",
        "queued",
      ]),
    );
    expect(spy.mock.calls.filter((c) => c[0] === "/api/deliveries/d2/retry")).toHaveLength(1);
  });

  it("reports a refused retry", async () => {
    mockFetch(
      signedIn(({ url }) => {
        if (url === "/api/messages/m1") return json(200, message([failed]));
        if (url === "/api/deliveries/d2/retry")
          return apiError(409, "delivery_not_failed", "only failed deliveries can be retried by hand");
        return json(404, {});
      }),
    );
    const { user } = renderApp("/messages/m1");
    await user.click(await screen.findByRole("button", { name: "Retry delivery to Webhook" }));
    expect(await screen.findByText("only failed deliveries can be retried by hand")).toBeInTheDocument();
  });

  it("explains when no rule matched", async () => {
    mockFetch(signedIn(({ url }) => (url === "/api/messages/m1" ? json(200, message([])) : json(404, {}))));
    renderApp("/messages/m1");
    expect(await screen.findByText("No deliveries")).toBeInTheDocument();
  });
});
