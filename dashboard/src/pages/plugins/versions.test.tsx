import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Grants, Plugin, PluginDetail } from "../../api/types";
import { BARK, DEFAULT_GRANTS, errorFor, HTTP_POST_V2, ME, OPERATOR, signedIn } from "../../test/fixtures";
import { apiError, json, mockFetch, type Handler } from "../../test/http";
import { renderApp } from "../../test/render";
import { installedNotice } from "./PluginAdmin";
import { draftToGrants, grantableCapabilities, usageSummary } from "./PluginDetails";

afterEach(() => vi.unstubAllGlobals());

const BARK_V: Plugin = {
  ...BARK,
  versions: [{ version: "0.1.0", wit_version: "0.3.0", capabilities: ["http", "kv", "log"], sha256: "c".repeat(64), size_bytes: 1_200_000, newest: true, channels: 3, rules: 0 }],
  grants: DEFAULT_GRANTS,
  limits: { memory_mib: 64, timeout_ms: 10000 },
};

/** `GET /api/plugins` answering `state.items` (mutable), `rest` for everything else. */
function server(state: { items: Plugin[] }, rest: Handler = () => json(404, {})): Handler {
  return (req) => {
    if (req.url === "/api/plugins" && req.method === "GET") return json(200, { items: state.items });
    return rest(req);
  };
}

const card = (name: string) => screen.getByRole("listitem", { name });
const calls = (spy: ReturnType<typeof mockFetch>, method: string, prefix: string) =>
  spy.mock.calls.filter((c) => String(c[0]).startsWith(prefix) && (c[1]?.method ?? "GET") === method);

/** The row of `version` in a plugin's versions table, as cell texts. */
function row(plugin: string, version: string): string[] {
  const table = within(card(plugin)).getByRole("table", { name: `Versions of ${plugin}` });
  return within(within(table).getByTestId(`version-${version}`))
    .getAllByRole("cell")
    .map((c) => c.textContent ?? "");
}

describe("plugin versions", () => {
  it("lists every installed version with WIT version, capabilities, size, newest and usage; read-only for non-operators", async () => {
    mockFetch(signedIn(server({ items: [BARK_V, HTTP_POST_V2] }), ME));
    renderApp("/plugins");
    await screen.findByRole("heading", { name: "HTTP POST" });
    expect(row("HTTP POST", "0.2.0")).toEqual(["0.2.0", "0.3.0", "http, kv, log", "307.8 KiB", "newest", "2", "0"]);
    expect(row("HTTP POST", "0.1.0")).toEqual(["0.1.0", "0.2.0", "http", "307.3 KiB", "—", "1", "0"]);
    expect(screen.queryByRole("button", { name: /^Remove/ })).not.toBeInTheDocument();
    // The grants and limits, as text; no form.
    expect(within(card("HTTP POST")).getByTestId("grant-hosts")).toHaveTextContent("any the server's outbound policy allows (default)");
    expect(within(card("HTTP POST")).getByTestId("grant-private")).toHaveTextContent("as the server's outbound policy says (default)");
    expect(within(card("HTTP POST")).getByTestId("limit-memory")).toHaveTextContent("64 MiB (default)");
    expect(within(card("HTTP POST")).getByTestId("limit-timeout")).toHaveTextContent("10,000 ms (default)");
    expect(within(card("HTTP POST")).getByTestId("grant-capabilities")).toHaveTextContent("all its kind may have (default)");
    expect(screen.queryByRole("button", { name: /^Edit grants/ })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Save grants" })).not.toBeInTheDocument();
  });

  it("shows granted values as granted", async () => {
    const granted: Plugin = {
      ...HTTP_POST_V2,
      grants: { allowed_hosts: ["api.example.com", "*.hooks.test"], allow_private_networks: false, memory_mib: 32, timeout_ms: 2500, capabilities: ["http"] },
      limits: { memory_mib: 32, timeout_ms: 2500 },
    };
    mockFetch(signedIn(server({ items: [granted] }), ME));
    renderApp("/plugins");
    await screen.findByRole("heading", { name: "HTTP POST" });
    const c = card("HTTP POST");
    expect(within(within(c).getByTestId("grant-hosts")).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      "api.example.com",
      "*.hooks.test",
    ]);
    expect(within(c).getByTestId("grant-private")).toHaveTextContent("blocked");
    expect(within(c).getByTestId("limit-memory")).toHaveTextContent("32 MiB (granted)");
    expect(within(c).getByTestId("limit-timeout")).toHaveTextContent("2,500 ms (granted)");
    expect(within(c).getByTestId("grant-capabilities")).toHaveTextContent("http");
  });

  it("operators remove an unused version after confirming; the list follows", async () => {
    const state = { items: [BARK_V, HTTP_POST_V2] };
    const spy = mockFetch(
      signedIn(
        server(state, ({ url, method }) => {
          if (url === "/api/plugins/http-post/versions/0.1.0?force=false" && method === "DELETE") {
            state.items = [BARK_V, { ...HTTP_POST_V2, versions: HTTP_POST_V2.versions!.slice(0, 1) }];
            return new Response(null, { status: 204 });
          }
          return json(404, {});
        }),
        OPERATOR,
      ),
    );
    const { user } = renderApp("/plugins");
    await screen.findByRole("heading", { name: "HTTP POST" });
    // Never on built-in plugins.
    expect(within(card("Bark")).queryByRole("button", { name: /^Remove/ })).not.toBeInTheDocument();
    await user.click(within(card("HTTP POST")).getByRole("button", { name: "Remove this version (0.1.0 of HTTP POST)" }));
    const dialog = await screen.findByRole("alertdialog", { name: "Remove version 0.1.0 of “HTTP POST”?" });
    expect(dialog).toHaveTextContent(
      "Version 0.1.0 of HTTP POST (http-post) is uninstalled for every user of this server; channels and rules that follow the newest keep running it.",
    );
    await user.click(within(dialog).getByRole("button", { name: "Remove" }));
    expect(await screen.findByTestId("plugin-removed")).toHaveTextContent("Removed version 0.1.0 of HTTP POST (http-post).");
    await waitFor(() =>
      expect(within(card("HTTP POST")).queryByRole("button", { name: "Remove this version (0.1.0 of HTTP POST)" })).not.toBeInTheDocument(),
    );
    expect(calls(spy, "DELETE", "/api/plugins").map((c) => c[0])).toEqual(["/api/plugins/http-post/versions/0.1.0?force=false"]);
  });

  it("when a channel pins the version: shows why, warns, and removes only with “Remove anyway” (force=true)", async () => {
    const state = { items: [HTTP_POST_V2] };
    const inUse = "http-post 0.1.0 is pinned by 1 channel(s); remove with force=true to break them";
    const spy = mockFetch(
      signedIn(
        server(state, ({ url, method }) => {
          if (method !== "DELETE") return json(404, {});
          if (url.endsWith("?force=false")) return apiError(409, "plugin_in_use", inUse);
          state.items = [{ ...HTTP_POST_V2, versions: HTTP_POST_V2.versions!.slice(0, 1) }];
          return new Response(null, { status: 204 });
        }),
        OPERATOR,
      ),
    );
    const { user } = renderApp("/plugins");
    await user.click(await screen.findByRole("button", { name: "Remove this version (0.1.0 of HTTP POST)" }));
    const dialog = await screen.findByRole("alertdialog", { name: "Remove version 0.1.0 of “HTTP POST”?" });
    await user.click(within(dialog).getByRole("button", { name: "Remove" }));
    expect(await within(dialog).findByTestId("plugin-in-use")).toHaveTextContent(inUse);
    expect(within(dialog).getByTestId("plugin-force-warning")).toHaveTextContent(
      "Removing it anyway breaks them: the channels and rules pinned to HTTP POST 0.1.0 stop working",
    );
    await user.click(within(dialog).getByRole("button", { name: "Remove anyway" }));
    expect(await screen.findByTestId("plugin-removed")).toHaveTextContent(
      "Removed version 0.1.0 of HTTP POST (http-post). The channels and rules pinned to it stop working until it is installed again or they are pinned to another version.",
    );
    expect(calls(spy, "DELETE", "/api/plugins").map((c) => c[0])).toEqual([
      "/api/plugins/http-post/versions/0.1.0?force=false",
      "/api/plugins/http-post/versions/0.1.0?force=true",
    ]);
  });

  it("removing the newest says where followers go; a refusal other than in-use is shown in the dialog", async () => {
    mockFetch(
      signedIn(
        server({ items: [HTTP_POST_V2] }, ({ method }) =>
          method === "DELETE" ? apiError(409, "builtin_plugin", "http-post is built in and cannot be removed") : json(404, {}),
        ),
        OPERATOR,
      ),
    );
    const { user } = renderApp("/plugins");
    await user.click(await screen.findByRole("button", { name: "Remove this version (0.2.0 of HTTP POST)" }));
    const dialog = await screen.findByRole("alertdialog");
    expect(dialog).toHaveTextContent("channels and rules that follow the newest move to 0.1.0.");
    await user.click(within(dialog).getByRole("button", { name: "Remove" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("http-post is built in and cannot be removed");
    expect(within(dialog).queryByRole("button", { name: "Remove anyway" })).not.toBeInTheDocument();
  });

  it("uploading a new version says it was installed beside the others and who moves to it", () => {
    const before = [{ ...HTTP_POST_V2, version: "0.1.0", versions: HTTP_POST_V2.versions!.slice(1).map((v) => ({ ...v, newest: true })) }];
    expect(installedNotice(HTTP_POST_V2, before)).toBe(
      "Installed HTTP POST (http-post) 0.2.0 beside 0.1.0; channels following the newest now use 0.2.0.",
    );
    // An older version uploaded later: followers stay on the newest.
    const older: Plugin = {
      ...HTTP_POST_V2,
      versions: [...HTTP_POST_V2.versions!, { ...HTTP_POST_V2.versions![1], version: "0.0.9", newest: false }],
    };
    expect(installedNotice(older, [HTTP_POST_V2])).toBe(
      "Installed HTTP POST (http-post) 0.0.9 beside 0.2.0, 0.1.0; it is older than 0.2.0, so channels following the newest stay on 0.2.0.",
    );
    expect(installedNotice(HTTP_POST_V2, [])).toBe("Installed HTTP POST (http-post), version 0.2.0.");
  });

  it("the upload notice on the page, after the real upload", async () => {
    const first: Plugin = { ...HTTP_POST_V2, version: "0.1.0", versions: [{ ...HTTP_POST_V2.versions![1], newest: true }] };
    const state = { items: [first] };
    mockFetch(
      signedIn(
        server(state, ({ url, method }) => {
          if (url === "/api/plugins" && method === "POST") {
            state.items = [HTTP_POST_V2];
            return json(201, HTTP_POST_V2);
          }
          return json(404, {});
        }),
        OPERATOR,
      ),
    );
    const { user } = renderApp("/plugins");
    await user.upload(await screen.findByLabelText("Plugin file (.wasm)"), new File([new Uint8Array([0, 97, 115, 109])], "v2.wasm"));
    await user.click(screen.getByRole("button", { name: "Install plugin" }));
    expect(await screen.findByTestId("plugin-installed")).toHaveTextContent(
      "Installed HTTP POST (http-post) 0.2.0 beside 0.1.0; channels following the newest now use 0.2.0.",
    );
    await waitFor(() => expect(row("HTTP POST", "0.2.0")[4]).toBe("newest"));
  });
});

describe("grants (operators)", () => {
  function grantsServer(answer: (body: Grants) => Response) {
    const state = { items: [BARK_V, HTTP_POST_V2] };
    const spy = mockFetch(
      signedIn(
        server(state, ({ url, method, body }) => {
          if (url === "/api/plugins/http-post/grants" && method === "PUT") {
            const res = answer(body as Grants);
            if (res.ok) state.items = [BARK_V, { ...HTTP_POST_V2, grants: body as Grants }];
            return res;
          }
          return json(404, {});
        }),
        OPERATOR,
      ),
    );
    return spy;
  }

  const puts = (spy: ReturnType<typeof mockFetch>) =>
    calls(spy, "PUT", "/api/plugins/http-post/grants").map((c) => JSON.parse(String(c[1]?.body)) as Grants);

  async function openForm(user: ReturnType<typeof renderApp>["user"]) {
    await screen.findByRole("heading", { name: "HTTP POST" });
    await user.click(within(card("HTTP POST")).getByRole("button", { name: "Edit grants of HTTP POST" }));
    return within(card("HTTP POST")).getByRole("form", { name: "Grants of HTTP POST" });
  }

  it("starts at the defaults and saves them as nulls", async () => {
    const spy = grantsServer((g) => json(200, { ...HTTP_POST_V2, grants: g }));
    const { user } = renderApp("/plugins");
    const form = await openForm(user);
    expect(within(form).getByLabelText("Any host the server's outbound policy allows (default)")).toBeChecked();
    expect(within(form).getByLabelText("Allowed hosts")).toBeDisabled();
    expect(within(form).getByLabelText("Private networks")).toHaveValue("");
    expect(within(form).getByLabelText("Memory limit (MiB)")).toHaveValue("");
    expect(within(form).getByLabelText("All (default)")).toBeChecked();
    // Only the capabilities the plugin imports are offered.
    expect(
      within(form)
        .getAllByRole("checkbox")
        .map((c) => c.closest("label")!.textContent!.trim()),
    ).toEqual(["All (default)", "log — write to the server log", "http — outgoing HTTP requests", "kv — keep small state between messages"]);
    await user.click(within(form).getByRole("button", { name: "Save grants" }));
    expect(await within(form).findByTestId("grants-saved")).toHaveTextContent("Grants of HTTP POST saved; they apply to its next calls.");
    expect(puts(spy)).toEqual([DEFAULT_GRANTS]);
  });

  it("sends hosts one per line, the private-network choice, limits and the ticked capabilities", async () => {
    const spy = grantsServer((g) => json(200, { ...HTTP_POST_V2, grants: { ...g, allowed_hosts: g.allowed_hosts!.map((h) => h.toLowerCase()) } }));
    const { user } = renderApp("/plugins");
    const form = await openForm(user);
    await user.click(within(form).getByLabelText("Only these hosts"));
    await user.type(within(form).getByLabelText("Allowed hosts"), "API.example.com{Enter}{Enter}  *.hooks.test  {Enter}127.0.0.1");
    await user.selectOptions(within(form).getByLabelText("Private networks"), "allow");
    await user.type(within(form).getByLabelText("Memory limit (MiB)"), "32");
    await user.type(within(form).getByLabelText("Time limit per call (ms)"), "2500");
    await user.click(within(form).getByLabelText("All (default)"));
    await user.click(within(form).getByLabelText("kv — keep small state between messages"));
    await user.click(within(form).getByRole("button", { name: "Save grants" }));
    await within(form).findByTestId("grants-saved");
    expect(puts(spy)).toEqual([
      {
        allowed_hosts: ["API.example.com", "*.hooks.test", "127.0.0.1"],
        allow_private_networks: true,
        memory_mib: 32,
        timeout_ms: 2500,
        capabilities: ["log", "http"],
      },
    ]);
    // What the server stored (normalised) is what the form shows now.
    expect(within(form).getByLabelText("Allowed hosts")).toHaveValue("api.example.com\n*.hooks.test\n127.0.0.1");
  });

  it("checks the limits before sending, then shows the server's refusals beside the field they name", async () => {
    let answer = apiError(422, "invalid_grant", '"https://x.test/" is not a host name, *.domain wildcard or IP address', "allowed_hosts[1]");
    const spy = grantsServer(() => answer);
    const { user } = renderApp("/plugins");
    const form = await openForm(user);
    await user.type(within(form).getByLabelText("Memory limit (MiB)"), "lots");
    await user.click(within(form).getByRole("button", { name: "Save grants" }));
    expect(errorFor("Memory limit (MiB)")).toBe("A whole number of MiB, at least 1 (or empty for the default).");
    expect(puts(spy)).toHaveLength(0);

    await user.clear(within(form).getByLabelText("Memory limit (MiB)"));
    await user.click(within(form).getByLabelText("Only these hosts"));
    await user.type(within(form).getByLabelText("Allowed hosts"), "ok.test{Enter}{Enter}https://x.test/");
    await user.click(within(form).getByRole("button", { name: "Save grants" }));
    await waitFor(() =>
      expect(errorFor("Allowed hosts")).toBe('Line 3 (https://x.test/): "https://x.test/" is not a host name, *.domain wildcard or IP address'),
    );
    expect(within(form).getByLabelText("Allowed hosts")).toHaveAttribute("aria-invalid", "true");

    answer = apiError(422, "invalid_grant", "must be between 1 and 1024", "memory_mib");
    await user.type(within(form).getByLabelText("Memory limit (MiB)"), "4096");
    await user.click(within(form).getByRole("button", { name: "Save grants" }));
    await waitFor(() => expect(errorFor("Memory limit (MiB)")).toBe("must be between 1 and 1024"));
    expect(errorFor("Allowed hosts")).toBeNull();

    answer = apiError(422, "invalid_grant", "must be between 1 and 50000", "timeout_ms");
    await user.click(within(form).getByRole("button", { name: "Save grants" }));
    await waitFor(() => expect(errorFor("Time limit per call (ms)")).toBe("must be between 1 and 50000"));

    answer = apiError(422, "invalid_grant", 'unknown capability "http2"', "capabilities[0]");
    await user.click(within(form).getByRole("button", { name: "Save grants" }));
    const caps = within(form).getByRole("group", { name: "Capabilities" });
    await waitFor(() => expect(within(caps).getByRole("alert")).toHaveTextContent('unknown capability "http2"'));

    answer = apiError(403, "operators_only", "only an operator may do this");
    await user.click(within(form).getByRole("button", { name: "Save grants" }));
    await waitFor(() => expect(within(form).getAllByRole("alert")[0]).toHaveTextContent("only an operator may do this"));
    expect(within(form).queryByTestId("grants-saved")).not.toBeInTheDocument();
  });

  it("filters get no network fields, and only kv and log among capabilities", () => {
    const filter: Plugin = { ...HTTP_POST_V2, kind: "filter", capabilities: ["kv"], versions: [] };
    expect(grantableCapabilities(filter)).toEqual(["kv"]);
    expect(grantableCapabilities({ ...HTTP_POST_V2, capabilities: ["smtp-send", "mqtt-publish"], versions: [] })).toEqual(["smtp-send", "mqtt-publish"]);
    const draft = {
      hostsMode: "only" as const,
      hosts: "x.test",
      privateNetworks: "allow" as const,
      memory: "",
      timeout: "",
      allCapabilities: true,
      capabilities: [],
    };
    expect(draftToGrants(draft, false)).toEqual(DEFAULT_GRANTS);
    expect(draftToGrants(draft, true)).toEqual({ ...DEFAULT_GRANTS, allowed_hosts: ["x.test"], allow_private_networks: true });
  });
});

describe("used by", () => {
  const DETAIL: PluginDetail = {
    ...HTTP_POST_V2,
    used_by: [
      { kind: "channel", id: "c1", name: "Ops hook", pinned_version: null, running_version: "0.2.0" },
      { kind: "channel", id: "c2", name: "Old hook", pinned_version: "0.1.0", running_version: "0.1.0" },
      { kind: "channel", id: "c3", name: "Lost hook", pinned_version: "0.0.1", running_version: null },
      { kind: "rule", id: "r1", name: "Everything <b>to</b> hook", pinned_version: null, running_version: "0.2.0" },
    ],
  };

  it("is loaded when opened, links channels and rules to their pages, and marks broken ones", async () => {
    const spy = mockFetch(
      signedIn(server({ items: [HTTP_POST_V2] }, ({ url }) => (url === "/api/plugins/http-post" ? json(200, DETAIL) : json(404, {}))), ME),
    );
    const { user, router } = renderApp("/plugins");
    await screen.findByRole("heading", { name: "HTTP POST" });
    expect(calls(spy, "GET", "/api/plugins/http-post")).toHaveLength(0);
    await user.click(within(card("HTTP POST")).getByRole("button", { name: "Used by: 3 channels" }));
    const list = await screen.findByRole("list", { name: "Used by (HTTP POST)" });
    const items = within(list).getAllByRole("listitem").map((li) => li.textContent);
    expect(items).toEqual([
      "channel Ops hook runs 0.2.0 (follows the newest)",
      "channel Old hook runs 0.1.0 (pinned to 0.1.0)",
      "channel Lost hook broken: version 0.0.1 not installed",
      "rule Everything <b>to</b> hook runs 0.2.0 (follows the newest)",
    ]);
    expect(within(list).getByRole("link", { name: "Ops hook" })).toHaveAttribute("href", "/channels/c1");
    expect(within(list).getByRole("link", { name: "Everything <b>to</b> hook" })).toHaveAttribute("href", "/rules/r1");
    await user.click(within(list).getByRole("link", { name: "Old hook" }));
    expect(router.state.location.pathname).toBe("/channels/c2");
  });

  it("says when nothing uses it, and shows a failed load with a retry", async () => {
    let fail = true;
    const unused = { ...HTTP_POST_V2, versions: HTTP_POST_V2.versions!.map((v) => ({ ...v, channels: 0 })) };
    mockFetch(
      signedIn(
        server({ items: [unused] }, ({ url }) => {
          if (url !== "/api/plugins/http-post") return json(404, {});
          return fail ? apiError(500, "internal", "boom") : json(200, { ...unused, used_by: [] });
        }),
        OPERATOR,
      ),
    );
    const { user } = renderApp("/plugins");
    await screen.findByRole("heading", { name: "HTTP POST" });
    await user.click(within(card("HTTP POST")).getByRole("button", { name: "Used by: none" }));
    expect(await within(card("HTTP POST")).findByText("boom")).toBeInTheDocument();
    fail = false;
    await user.click(within(card("HTTP POST")).getByRole("button", { name: "Try again" }));
    expect(await within(card("HTTP POST")).findByText("No channel or rule uses HTTP POST.")).toBeInTheDocument();
  });

  it("summarises the versions' counts", () => {
    expect(usageSummary(HTTP_POST_V2)).toBe("3 channels");
    expect(usageSummary({ ...HTTP_POST_V2, versions: [{ ...HTTP_POST_V2.versions![0], channels: 1, rules: 1 }] })).toBe("1 channel, 1 rule");
    expect(usageSummary({ ...HTTP_POST_V2, versions: undefined })).toBeUndefined();
  });
});
