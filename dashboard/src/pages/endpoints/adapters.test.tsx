/**
 * An endpoint's adapter on its page: the saved setting, choosing an adapter
 * (its form drawn from the real config schema), saving and removing it, the
 * server's field errors beside their inputs, and the sample test with the
 * unsaved setting. Also the endpoints list and the plugins page for adapters.
 */
import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AdapterTestResult, Endpoint, Plugin, PluginDetail } from "../../api/types";
import { ENDPOINTS, errorFor, GITHUB, GITHUB_ENDPOINT, JSON_MAP, ME, PLUGINS, REAL_PLUGINS, signedIn } from "../../test/fixtures";
import { apiError, json, mockFetch, type Handler } from "../../test/http";
import { renderApp } from "../../test/render";
import { parseHeaderLines } from "./AdapterTest";

afterEach(() => vi.unstubAllGlobals());

const PLAIN: Endpoint = { ...ENDPOINTS[0], adapter: null };

const calls = (spy: ReturnType<typeof mockFetch>, method: string, url: string) =>
  spy.mock.calls.filter((c) => c[0] === url && (c[1]?.method ?? "GET") === method).map((c) => JSON.parse(String(c[1]?.body ?? "null")));

/** A server with one endpoint (`state.endpoint`, updated by PUT/DELETE) and the real built-in plugins. */
function server(state: { endpoint: Endpoint; plugins?: Plugin[] }, rest: Handler = () => json(404, {})): Handler {
  const base = `/api/ingest-endpoints/${state.endpoint.id}`;
  return signedIn((req) => {
    const { url, method, body } = req;
    if (url === "/api/plugins") return json(200, { items: state.plugins ?? REAL_PLUGINS });
    if (url === base && method === "GET") return json(200, state.endpoint);
    if (url === `${base}/adapter` && method === "DELETE") {
      state.endpoint = { ...state.endpoint, adapter: null };
      return json(200, state.endpoint);
    }
    if (url === `${base}/adapter` && method === "PUT") {
      const b = body as { plugin: string; plugin_version?: string | null; config: Record<string, unknown> };
      const answer = rest(req);
      if (answer instanceof Response && answer.status !== 404) return answer;
      // The server masks the secret it stores.
      const config = b.plugin === "github" ? { ...b.config, secret: "********" } : b.config;
      state.endpoint = { ...state.endpoint, adapter: { plugin: b.plugin, plugin_version: b.plugin_version ?? null, config, running_version: "0.1.0" } };
      return json(200, state.endpoint);
    }
    return rest(req);
  });
}

const adapterSelect = () => screen.getByRole("combobox", { name: "Adapter plugin" });
/** A required field of a schema-drawn form is labelled "Body *" (the star hidden from assistive tech). */
const input = (name: string) => screen.getByRole("textbox", { name });

describe("endpoint page: the adapter", () => {
  it("shows the saved adapter, its settings (secret masked) and the ingest URL forms as text", async () => {
    mockFetch(server({ endpoint: GITHUB_ENDPOINT }));
    renderApp("/endpoints/e1");
    expect(await screen.findByRole("heading", { name: "repo hooks", level: 1 })).toBeInTheDocument();
    expect(screen.getByTestId("adapter-current")).toHaveTextContent("Adapter: GitHub (github), version 0.1.0 (follows the newest).");
    expect(screen.queryByTestId("adapter-broken")).not.toBeInTheDocument();
    expect(adapterSelect()).toHaveValue("github");
    // With an adapter saved, "None" is not offered: removing is its own button.
    expect(within(adapterSelect()).getAllByRole("option").map((o) => (o as HTMLOptionElement).value)).toEqual(["alertmanager", "github", "json-map"]);
    const secret = screen.getByLabelText(/^Secret/);
    expect(secret).toHaveAttribute("type", "password");
    expect(secret).toHaveValue("********");
    expect(screen.getByText(/Stored secret/)).toBeInTheDocument();
    expect(screen.getByLabelText("Events")).toHaveValue("push");
    expect(screen.getByRole("button", { name: "Remove adapter" })).toBeInTheDocument();

    // How senders reach it: plain text, the key as a placeholder (it was shown only once).
    const origin = window.location.origin;
    expect(screen.getByText(`${origin}/api/ingest/e1`, { selector: "code" })).toBeInTheDocument();
    expect(screen.getByText("Authorization: Bearer <ingest key>", { selector: "code" })).toBeInTheDocument();
    expect(screen.getByText(`${origin}/api/ingest/e1?key=<ingest key>`, { selector: "code" })).toBeInTheDocument();
  });

  it("warns when the adapter is not installed (requests are refused)", async () => {
    mockFetch(
      server({
        endpoint: { ...GITHUB_ENDPOINT, adapter: { plugin: "grafana", plugin_version: "1.0.0", config: { x: 1 }, running_version: null } },
      }),
    );
    renderApp("/endpoints/e1");
    expect(await screen.findByTestId("adapter-broken")).toHaveTextContent(
      "Not installed: grafana 1.0.0 is not installed, so requests to this endpoint are refused (422 adapter_unavailable)",
    );
    expect(screen.getByTestId("adapter-current")).toHaveTextContent("Adapter: grafana, pinned to version 1.0.0.");
    expect(adapterSelect()).toHaveValue("grafana");
    expect(within(adapterSelect()).getByRole("option", { name: "grafana (not installed)" })).toBeInTheDocument();
  });

  it("without an adapter says so; choosing json-map draws its form from the real schema", async () => {
    const spy = mockFetch(server({ endpoint: PLAIN }));
    const { user } = renderApp("/endpoints/e1");
    expect(await screen.findByTestId("adapter-current")).toHaveTextContent("Adapter: None — requests are Beacon's own JSON/text body.");
    expect(adapterSelect()).toHaveValue("");
    expect(screen.getByRole("button", { name: "Save adapter" })).toBeDisabled();
    expect(screen.queryByRole("button", { name: "Remove adapter" })).not.toBeInTheDocument();
    // Only adapter plugins are offered.
    expect(within(adapterSelect()).getAllByRole("option").map((o) => (o as HTMLOptionElement).value)).toEqual(["", "alertmanager", "github", "json-map"]);

    await user.selectOptions(adapterSelect(), "json-map");
    expect(screen.getByText(JSON_MAP.description)).toBeInTheDocument();
    expect(screen.getByRole("group", { name: "Settings for JSON mapping" })).toBeInTheDocument();
    // Required first, then the single inputs, then the maps (edited as JSON or name/value rows).
    for (const name of ["Body", "Title", "Click", "Group", "Items", "Priority", "Tags"]) expect(input(name)).toBeInTheDocument();
    expect(screen.getByRole("spinbutton", { name: "Default priority" })).toHaveAttribute("max", "5");
    expect(screen.getByRole("group", { name: "Extras" })).toBeInTheDocument();
    expect(screen.getByLabelText("Priorities")).toBeInTheDocument();
    // Nothing sent yet, and "Body" is required before anything is.
    await user.click(screen.getByRole("button", { name: "Save adapter" }));
    expect(errorFor(/^Body/)).toBe("Required.");
    expect(calls(spy, "PUT", "/api/ingest-endpoints/e1/adapter")).toHaveLength(0);
  });

  it("save sends the plugin, the version (null: the newest) and the config as a PUT, then shows the saved adapter", async () => {
    const state = { endpoint: PLAIN };
    const spy = mockFetch(server(state));
    const { user } = renderApp("/endpoints/e1");
    await user.selectOptions(await screen.findByRole("combobox", { name: "Adapter plugin" }), "json-map");
    await user.type(input("Body"), "/msg");
    await user.click(input("Title"));
    await user.paste("{{/service}}");
    await user.click(screen.getByRole("button", { name: "Save adapter" }));
    expect(await screen.findByTestId("adapter-notice")).toHaveTextContent("Adapter saved: requests to this endpoint now go through JSON mapping.");
    expect(calls(spy, "PUT", "/api/ingest-endpoints/e1/adapter")).toEqual([
      { plugin: "json-map", plugin_version: null, config: { body: "/msg", title: "{{/service}}" } },
    ]);
    expect(screen.getByTestId("adapter-current")).toHaveTextContent("Adapter: JSON mapping (json-map), version 0.1.0 (follows the newest).");
    expect(screen.getByRole("button", { name: "Remove adapter" })).toBeInTheDocument();
    expect(input("Title")).toHaveValue("{{/service}}");
  });

  it("a masked secret is sent back as it is shown (the server keeps the stored one)", async () => {
    const spy = mockFetch(server({ endpoint: GITHUB_ENDPOINT }));
    const { user } = renderApp("/endpoints/e1");
    const events = await screen.findByLabelText("Events");
    await user.type(events, "\nrelease");
    await user.click(screen.getByRole("button", { name: "Save adapter" }));
    await screen.findByTestId("adapter-notice");
    expect(calls(spy, "PUT", "/api/ingest-endpoints/e1/adapter")).toEqual([
      { plugin: "github", plugin_version: null, config: { secret: "********", events: ["push", "release"] } },
    ]);
    expect(screen.getByLabelText(/^Secret/)).toHaveValue("********");
  });

  it("shows the server's 422 beside the field it names: config.<path>, plugin_version, plugin", async () => {
    let answer = apiError(422, "validation_failed", "must be a priority from 1 to 5", "config.default_priority");
    const versioned: Plugin = {
      ...JSON_MAP,
      versions: [{ version: "0.1.0", wit_version: "0.3.0", capabilities: [], sha256: "a".repeat(64), size_bytes: 1, newest: true, channels: 0, rules: 0 }],
    };
    const spy = mockFetch(server({ endpoint: PLAIN, plugins: [...REAL_PLUGINS.filter((p) => p.id !== "json-map"), versioned] }, () => answer));
    const { user } = renderApp("/endpoints/e1");
    await user.selectOptions(await screen.findByRole("combobox", { name: "Adapter plugin" }), "json-map");
    await user.type(input("Body"), "/msg");
    await user.type(screen.getByRole("spinbutton", { name: "Default priority" }), "4");
    await user.click(screen.getByRole("button", { name: "Save adapter" }));
    await waitFor(() => expect(errorFor("Default priority")).toBe("must be a priority from 1 to 5"));
    expect(screen.getByRole("spinbutton", { name: "Default priority" })).toHaveFocus();
    expect(errorFor(/^Body/)).toBeNull();

    // Pinned to a version the server no longer has.
    const version = screen.getByRole("combobox", { name: "Adapter version" });
    expect(within(version).getAllByRole("option").map((o) => o.textContent)).toEqual(["Newest (follows upgrades) — now 0.1.0", "0.1.0 (newest)"]);
    await user.selectOptions(version, "0.1.0");
    answer = apiError(422, "unknown_plugin_version", "json-map 0.1.0 is not installed", "plugin_version");
    await user.click(screen.getByRole("button", { name: "Save adapter" }));
    await waitFor(() => expect(errorFor("Adapter version")).toBe("json-map 0.1.0 is not installed"));
    expect(calls(spy, "PUT", "/api/ingest-endpoints/e1/adapter").at(-1)).toEqual({
      plugin: "json-map",
      plugin_version: "0.1.0",
      config: { body: "/msg", default_priority: 4 },
    });

    answer = apiError(422, "validation_failed", "no adapter plugin \"json-map\" is installed", "plugin");
    await user.click(screen.getByRole("button", { name: "Save adapter" }));
    await waitFor(() => expect(errorFor("Adapter plugin")).toBe('no adapter plugin "json-map" is installed'));

    // An error no input owns goes above the form.
    answer = apiError(403, "forbidden", "Verify your e-mail address first.");
    await user.click(screen.getByRole("button", { name: "Save adapter" }));
    expect(await within(screen.getByRole("form", { name: "Adapter settings" })).findByText("Verify your e-mail address first.")).toBeInTheDocument();
  });

  it("removes the adapter after confirming", async () => {
    const state = { endpoint: GITHUB_ENDPOINT };
    const spy = mockFetch(server(state));
    const { user } = renderApp("/endpoints/e1");
    await user.click(await screen.findByRole("button", { name: "Remove adapter" }));
    const dialog = await screen.findByRole("alertdialog", { name: "Remove the adapter?" });
    await user.click(within(dialog).getByRole("button", { name: "Remove adapter" }));
    expect(await screen.findByTestId("adapter-notice")).toHaveTextContent("Adapter removed");
    expect(spy.mock.calls.filter((c) => c[0] === "/api/ingest-endpoints/e1/adapter" && c[1]?.method === "DELETE")).toHaveLength(1);
    expect(screen.getByTestId("adapter-current")).toHaveTextContent("Adapter: None — requests are Beacon's own JSON/text body.");
    expect(adapterSelect()).toHaveValue("");
    expect(screen.queryByLabelText(/^Secret/)).not.toBeInTheDocument();
  });
});

describe("endpoint page: test with a sample", () => {
  const RESULT: AdapterTestResult = {
    ok: true,
    status: 201,
    error: null,
    messages: [
      {
        title: "<b>db</b>",
        body: "disk full\n<script>window.__x = 1</script>",
        group: "storage",
        priority: 4,
        tags: ["firing", "disk"],
        url: "https://grafana.example.com/d/1",
        extras: { instance: "db-1" },
      },
      { title: null, body: "second", group: null, priority: 3, tags: [], url: "javascript:alert(1)", extras: {} },
    ],
  };

  it("posts the unsaved form values with the sample and headers, and shows the messages as text", async () => {
    const spy = mockFetch(server({ endpoint: PLAIN }, ({ url }) => (url === "/api/ingest-endpoints/e1/adapter/test" ? json(200, RESULT) : json(404, {}))));
    const { user } = renderApp("/endpoints/e1");
    const test = await screen.findByRole("button", { name: "Test" });
    expect(test).toBeDisabled();
    await user.selectOptions(adapterSelect(), "json-map");
    await user.type(input("Body"), "/msg");
    await user.click(input("Title"));
    await user.paste("{{/service}}");
    await user.click(screen.getByLabelText("Sample request body"));
    await user.paste('{"service":"db","msg":"disk full"}');
    await user.click(screen.getByLabelText("Headers (optional)"));
    await user.paste("X-Source: grafana\n\nX-Trace:  abc ");
    await user.click(test);

    const messages = await screen.findByRole("list", { name: "Messages it would become" });
    expect(calls(spy, "POST", "/api/ingest-endpoints/e1/adapter/test")).toEqual([
      {
        adapter: { plugin: "json-map", plugin_version: null, config: { body: "/msg", title: "{{/service}}" } },
        body: '{"service":"db","msg":"disk full"}',
        headers: { "X-Source": "grafana", "X-Trace": "abc" },
      },
    ]);
    // Nothing was saved.
    expect(calls(spy, "PUT", "/api/ingest-endpoints/e1/adapter")).toHaveLength(0);
    expect(screen.getByTestId("adapter-test-summary")).toHaveTextContent("Accepted: the sender would get HTTP 201, and 2 messages would be stored.");
    const first = within(messages).getByRole("listitem", { name: "Message 1" });
    expect(within(first).getByText("<b>db</b>")).toBeInTheDocument();
    expect(first.querySelector("b, script")).toBeNull();
    expect(within(first).getByText(/^disk full/)).toHaveTextContent("disk full <script>window.__x = 1</script>");
    expect(within(first).getByText("storage")).toBeInTheDocument();
    expect(within(first).getByText("P4")).toBeInTheDocument();
    expect(within(first).getAllByRole("listitem").map((t) => t.textContent)).toEqual(["firing", "disk"]);
    expect(within(first).getByRole("link", { name: "https://grafana.example.com/d/1" })).toHaveAttribute("href", "https://grafana.example.com/d/1");
    expect(within(first).getByText("instance")).toBeInTheDocument();
    expect(within(first).getByText("db-1")).toBeInTheDocument();
    // Only http(s) links become links.
    const second = within(messages).getByRole("listitem", { name: "Message 2" });
    expect(within(second).queryByRole("link")).not.toBeInTheDocument();
    expect(within(second).getByText("javascript:alert(1)")).toBeInTheDocument();

    // A change to the settings marks the result out of date.
    await user.type(input("Body"), "x");
    expect(screen.getByText("The settings or the sample changed since this result: test again.")).toBeInTheDocument();
  });

  it("shows the refusal the sender would get: status, code and message", async () => {
    const refused: AdapterTestResult = {
      ok: false,
      status: 422,
      messages: [],
      error: { error: { code: "adapter_refused", message: "the json-map adapter could not read this request: the body is not JSON" } },
    };
    mockFetch(server({ endpoint: GITHUB_ENDPOINT }, ({ url }) => (url === "/api/ingest-endpoints/e1/adapter/test" ? json(200, refused) : json(404, {}))));
    const { user } = renderApp("/endpoints/e1");
    await user.click(await screen.findByLabelText("Sample request body"));
    await user.paste("not json");
    await user.click(screen.getByRole("button", { name: "Test" }));
    const error = await screen.findByTestId("adapter-test-error");
    expect(error).toHaveTextContent("Refused: the sender would get HTTP 422.");
    expect(error).toHaveTextContent("adapter_refused: the json-map adapter could not read this request: the body is not JSON");
    expect(screen.queryByRole("list", { name: "Messages it would become" })).not.toBeInTheDocument();
  });

  it("says when the sample becomes no message, refuses malformed header lines, and puts a bad setting beside its field", async () => {
    let answer: Response = json(200, { ok: true, status: 201, error: null, messages: [] });
    const spy = mockFetch(server({ endpoint: GITHUB_ENDPOINT }, ({ url }) => (url === "/api/ingest-endpoints/e1/adapter/test" ? answer : json(404, {}))));
    const { user } = renderApp("/endpoints/e1");
    await user.click(await screen.findByLabelText("Headers (optional)"));
    await user.paste("X-GitHub-Event push");
    expect(errorFor("Headers (optional)")).toBe("Line 1: write each header as “Name: value”.");
    expect(screen.getByRole("button", { name: "Test" })).toBeDisabled();
    await user.clear(screen.getByLabelText("Headers (optional)"));
    await user.paste("X-GitHub-Event: star");
    await user.click(screen.getByRole("button", { name: "Test" }));
    expect(await screen.findByTestId("adapter-test-summary")).toHaveTextContent("Accepted, but it becomes no message");
    expect(calls(spy, "POST", "/api/ingest-endpoints/e1/adapter/test")[0]).toMatchObject({
      adapter: { plugin: "github", config: { secret: "********", events: ["push"] } },
      headers: { "X-GitHub-Event": "star" },
    });

    answer = apiError(422, "validation_failed", "must not be empty", "config.events[0]");
    await user.click(screen.getByRole("button", { name: "Test" }));
    await waitFor(() => expect(errorFor("Events")).toBe("Item 1: must not be empty"));
    expect(screen.getByText("The server refused the adapter settings: see the highlighted field above.")).toBeInTheDocument();
  });

  it("parses header lines", () => {
    expect(parseHeaderLines("")).toEqual({ ok: true, headers: {} });
    expect(parseHeaderLines("A: 1\r\nB:two: three\n  \n")).toEqual({ ok: true, headers: { A: "1", B: "two: three" } });
    expect(parseHeaderLines("ok: 1\n: x")).toEqual({ ok: false, error: "Line 2: write each header as “Name: value”." });
    expect(parseHeaderLines("Bad Name: x")).toMatchObject({ ok: false });
  });
});

describe("endpoints list", () => {
  it("links each endpoint to its page and names its adapter", async () => {
    const list = [GITHUB_ENDPOINT, { ...ENDPOINTS[1], adapter: null }];
    mockFetch(signedIn(({ url }) => (url === "/api/ingest-endpoints" ? json(200, { items: list }) : url === "/api/ingest-endpoints/e1" ? json(200, GITHUB_ENDPOINT) : url === "/api/plugins" ? json(200, { items: REAL_PLUGINS }) : json(404, {}))));
    const { user, router } = renderApp("/endpoints");
    const link = await screen.findByRole("link", { name: "repo hooks" });
    const row = (name: string) => screen.getByRole("row", { name: new RegExp(`^${name}`) });
    expect(within(row("repo hooks")).getByText("github")).toBeInTheDocument();
    expect(within(row("ci")).getByText("none")).toBeInTheDocument();
    await user.click(link);
    expect(router.state.location.pathname).toBe("/endpoints/e1");
    expect(await screen.findByRole("heading", { name: "repo hooks", level: 1 })).toBeInTheDocument();
  });
});

describe("plugins page: adapters", () => {
  const DETAIL: PluginDetail = {
    ...GITHUB,
    versions: [{ version: "0.1.0", wit_version: "0.3.0", capabilities: [], sha256: "a".repeat(64), size_bytes: 1, newest: true, channels: 0, rules: 0 }],
    used_by: [{ kind: "endpoint", id: "e1", name: "repo hooks", pinned_version: null, running_version: "0.1.0" }],
  };

  it("lists adapters under their own heading, labelled Adapter, and links the endpoints that use one", async () => {
    mockFetch(
      signedIn(({ url }) => {
        if (url === "/api/plugins") return json(200, { items: [...PLUGINS, DETAIL] });
        if (url === "/api/plugins/github") return json(200, DETAIL);
        if (url === "/api/ingest-endpoints/e1") return json(200, GITHUB_ENDPOINT);
        return json(404, {});
      }, ME),
    );
    const { user, router } = renderApp("/plugins");
    expect(await screen.findByRole("heading", { name: "Adapter plugins", level: 2 })).toBeInTheDocument();
    expect(screen.getAllByRole("heading", { level: 2 }).map((h) => h.textContent)).toEqual(["Channel plugins", "Filter plugins", "Adapter plugins"]);
    const card = screen.getByRole("listitem", { name: "GitHub" });
    expect(within(card).getByText(/^Adapter \(/)).toHaveTextContent("Adapter (turns an endpoint's webhook requests into messages)");
    await user.click(within(card).getByRole("button", { name: "Used by: endpoints" }));
    const list = await within(card).findByRole("list", { name: "Used by (GitHub)" });
    expect(within(list).getByRole("listitem")).toHaveTextContent("endpoint repo hooks runs 0.1.0 (follows the newest)");
    await user.click(within(list).getByRole("link", { name: "repo hooks" }));
    expect(router.state.location.pathname).toBe("/endpoints/e1");
  });
});
