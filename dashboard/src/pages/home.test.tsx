import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MessageSummary } from "../api/types";
import { json, mockFetch, type Handler } from "../test/http";
import { ME, PLUGINS, REAL_PLUGINS, signedIn, TOKENS } from "../test/fixtures";
import { renderApp } from "../test/render";
import { compareVersions } from "./PluginsPage";

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

  /** The text of the field `label` in a plugin card. */
  const field = (card: HTMLElement, label: string) => within(card).getByText(label, { selector: "dt" }).nextElementSibling!;
  const badges = (card: HTMLElement) =>
    within(card)
      .queryAllByRole("listitem")
      .filter((li) => li.classList.contains("capability"))
      .map((li) => li.textContent);

  it("shows each plugin's WIT version and capabilities, and marks an older interface", async () => {
    mockFetch(signedIn(home(() => [])));
    renderApp("/plugins");
    const bark = await screen.findByRole("listitem", { name: "Bark" });
    expect(field(bark, "WIT version")).toHaveTextContent(/^0\.3\.0$/);
    expect(within(bark).getByRole("list", { name: "Capabilities" })).toBeInTheDocument();
    expect(badges(bark)).toEqual(["http", "kv", "log"]);
    expect(within(bark).getByText("http")).toHaveAttribute("title", expect.stringMatching(/HTTP requests/));

    const webhook = screen.getByRole("listitem", { name: "Webhook" });
    expect(field(webhook, "WIT version")).toHaveTextContent("0.2.0 (older interface)");
    const keyword = screen.getByRole("listitem", { name: "Keyword filter" });
    expect(field(keyword, "Capabilities")).toHaveTextContent("none");
  });

  it("shows the real built-in plugins' capabilities", async () => {
    mockFetch(signedIn(({ url }) => (url === "/api/plugins" ? json(200, { items: REAL_PLUGINS }) : json(404, {}))));
    renderApp("/plugins");
    const email = await screen.findByRole("listitem", { name: "E-mail" });
    expect(badges(email)).toEqual(["kv", "log", "smtp-send"]);
    expect(badges(screen.getByRole("listitem", { name: "MQTT" }))).toEqual(["kv", "log", "mqtt-publish"]);
    expect(badges(screen.getByRole("listitem", { name: "ntfy" }))).toEqual(["http", "kv", "log"]);
    expect(field(screen.getByRole("listitem", { name: "Deduplicate" }), "WIT version")).toHaveTextContent(/^0\.3\.0$/);
    expect(screen.queryByText("(older interface)")).toBeNull();
    // The adapters import no host capability at all.
    expect(field(screen.getByRole("listitem", { name: "JSON mapping" }), "Capabilities")).toHaveTextContent("none");
    // Channel plugins first, then filter plugins, then adapters, each under its heading.
    expect(screen.getAllByRole("heading", { level: 2 }).map((h) => h.textContent)).toEqual(["Channel plugins", "Filter plugins", "Adapter plugins"]);
  });

  it("shows a server that does not report them yet", async () => {
    const old = PLUGINS.map(({ wit_version: _w, capabilities: _c, ...p }) => p);
    mockFetch(signedIn(({ url }) => (url === "/api/plugins" ? json(200, { items: old }) : json(404, {}))));
    renderApp("/plugins");
    const bark = await screen.findByRole("listitem", { name: "Bark" });
    expect(field(bark, "WIT version")).toHaveTextContent("not reported");
    expect(field(bark, "Capabilities")).toHaveTextContent("not reported");
  });
});

describe("compareVersions", () => {
  it("compares numerically", () => {
    expect(compareVersions("0.10.0", "0.3.0")).toBeGreaterThan(0);
    expect(compareVersions("0.2.0", "0.3.0")).toBeLessThan(0);
    expect(compareVersions("1.0", "1.0.0")).toBe(0);
  });
});
