import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MessageSummary } from "../api/types";
import { json, mockFetch, type Handler } from "../test/http";
import { ME, PLUGINS, signedIn, TOKENS } from "../test/fixtures";
import { renderApp } from "../test/render";

afterEach(() => vi.unstubAllGlobals());

const MSG: MessageSummary = {
  id: "m1",
  received_at: "2025-03-01T12:00:00Z",
  endpoint_id: "e1",
  endpoint_name: "backups",
  title: "Backup done",
  body_preview: "nightly backup finished",
  priority: 3,
  tags: [],
  group: null,
  url: null,
  deliveries: { total: 1, sent: 1, failed: 0, pending: 0 },
};

const ACTIVITY = {
  bucket_seconds: 3600,
  from: "2025-03-01T00:00:00Z",
  to: "2025-03-02T00:00:00Z",
  buckets: Array.from({ length: 24 }, (_, i) => ({
    start: new Date(Date.parse("2025-03-01T00:00:00Z") + i * 3600_000).toISOString(),
    messages: i === 5 ? 3 : 0,
    sent: i === 5 ? 2 : 0,
    failed: i === 5 ? 1 : 0,
  })),
};

const FAILURE = {
  id: "d9",
  message_id: "m1",
  message_title: "Backup done",
  message_preview: "nightly backup finished",
  rule_id: "r1",
  rule_name: "Everything",
  channel_id: "c1",
  channel_name: "My iPhone",
  status: "failed",
  attempt_count: 10,
  last_error: "Bark answered code 400",
  next_attempt_at: null,
  created_at: "2025-03-01T12:00:00Z",
  updated_at: "2025-03-01T12:30:00Z",
  sent_at: null,
};

function home(messages: () => MessageSummary[]): Handler {
  return ({ url }) => {
    if (url.startsWith("/api/messages")) return json(200, { items: messages(), next_cursor: null });
    if (url.startsWith("/api/ingest-endpoints")) return json(200, { items: [] });
    if (url === "/api/deliveries?status=failed&limit=5") return json(200, { items: [FAILURE], next_cursor: null });
    if (url === "/api/stats/activity?hours=24") return json(200, ACTIVITY);
    if (url === "/api/plugins") return json(200, { items: PLUGINS });
    return json(404, {});
  };
}

describe("home", () => {
  it("shows quick actions, recent failures with retry, and the 24 h chart", async () => {
    mockFetch(signedIn(home(() => [MSG])));
    const { user, router } = renderApp("/");
    const quick = await screen.findByRole("group", { name: "Quick actions" });
    for (const name of ["New endpoint", "New channel", "New rule"]) expect(within(quick).getByRole("button", { name })).toBeEnabled();

    const failures = await screen.findByRole("region", { name: "Recent delivery failures" });
    expect(await within(failures).findByText("Bark answered code 400")).toBeInTheDocument();
    expect(within(failures).getByRole("button", { name: "Retry delivery to My iPhone" })).toBeInTheDocument();
    expect(await screen.findByRole("img", { name: /3 messages, 2 deliveries sent and 1 failed/ })).toBeInTheDocument();

    await user.click(within(quick).getByRole("button", { name: "New rule" }));
    expect(router.state.location.pathname).toBe("/rules/new");
  });

  it("disables the create actions for unverified users", async () => {
    mockFetch(signedIn(home(() => []), { ...ME, email_verified: false }));
    renderApp("/");
    const quick = await screen.findByRole("group", { name: "Quick actions" });
    for (const name of ["New endpoint", "New channel", "New rule"]) expect(within(quick).getByRole("button", { name })).toBeDisabled();
  });

  it("clears the verification banner by itself once the address is verified elsewhere", async () => {
    let verified = false;
    const rest = home(() => []);
    mockFetch((req) => {
      if (req.url === "/api/auth/refresh") return json(200, TOKENS);
      if (req.url === "/api/auth/me") return json(200, { ...ME, email_verified: verified });
      if (req.url === "/api/events") return new Response(null, { status: 204 });
      return rest(req);
    });
    renderApp("/");
    await screen.findByRole("region", { name: "E-mail verification" });
    verified = true; // e.g. the link was followed on a phone
    await waitFor(() => expect(screen.queryByRole("region", { name: "E-mail verification" })).toBeNull(), {
      timeout: 8_000,
    });
    const quick = screen.getByRole("group", { name: "Quick actions" });
    expect(within(quick).getByRole("button", { name: "New endpoint" })).toBeEnabled();
  }, 12_000);

  it("shows new messages from the live event stream without a reload", async () => {
    let ctrl!: ReadableStreamDefaultController<Uint8Array>;
    const stream = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) });
    let messages: MessageSummary[] = [];
    let eventsAuth: string | null = null;
    const rest = home(() => messages);
    mockFetch((req) => {
      if (req.url === "/api/auth/refresh") return json(200, TOKENS);
      if (req.url === "/api/auth/me") return json(200, ME);
      if (req.url === "/api/events") {
        eventsAuth = req.headers.get("Authorization");
        return new Response(stream, { headers: { "Content-Type": "text/event-stream" } });
      }
      return rest(req);
    });
    renderApp("/");
    expect(await screen.findByText("No messages yet — here is your curl")).toBeInTheDocument();
    await waitFor(() => expect(eventsAuth).toBe("Bearer tok"));
    await waitFor(() => expect(screen.getByText("Live")).toBeInTheDocument());

    messages = [MSG];
    ctrl.enqueue(new TextEncoder().encode(': keep-alive\n\nevent: message\ndata: {"id":"m1","endpoint_id":"e1","received_at":"2025-03-01T12:00:00Z"}\n\n'));
    expect(await screen.findByText("nightly backup finished")).toBeInTheDocument();
  });
});

describe("plugins page", () => {
  it("lists id, name, version and kind, with the config schema collapsed", async () => {
    mockFetch(signedIn(home(() => [])));
    const { user } = renderApp("/plugins");
    const bark = await screen.findByRole("listitem", { name: "Bark" });
    expect(within(bark).getByText("bark")).toBeInTheDocument();
    expect(within(bark).getByText("0.1.0")).toBeInTheDocument();
    expect(within(bark).getByText("Channel (sends deliveries)")).toBeInTheDocument();
    const toggle = within(bark).getByRole("button", { name: "Config schema of Bark" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    await user.click(toggle);
    expect(within(bark).getByText(/"server_base_url"/)).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Filter plugins" })).toBeInTheDocument();
  });
});
