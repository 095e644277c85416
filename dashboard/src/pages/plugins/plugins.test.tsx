import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Plugin } from "../../api/types";
import { BARK, errorFor, KEYWORD_FILTER, ME, OPERATOR, PLUGINS, signedIn, STANDARD_FILTER, WEBHOOK } from "../../test/fixtures";
import { apiError, json, mockFetch, type Handler } from "../../test/http";
import { renderApp } from "../../test/render";

afterEach(() => vi.unstubAllGlobals());

/** A third-party channel plugin as `POST /api/plugins` answers for host/tests/fixtures/compat/http-post-wit-0.2.0.wasm. */
const HTTP_POST: Plugin = {
  id: "http-post",
  name: "HTTP POST",
  version: "0.1.0",
  kind: "channel",
  description: "POSTs the payload to a URL.",
  builtin: false,
  wit_version: "0.2.0",
  capabilities: ["http"],
  config_schema: { type: "object", required: ["url"], properties: { url: { type: "string" } } },
};

const FILE_LABEL = "Plugin file (.wasm)";
const wasm = (name = "plugin.wasm", bytes = [0, 97, 115, 109, 13, 0, 1, 0]) => new File([new Uint8Array(bytes)], name, { type: "application/wasm" });

/** `GET /api/plugins` answering `installed` (mutable), with `rest` for everything else. */
function pluginServer(installed: Plugin[], rest: Handler = () => json(404, {})): Handler {
  return (req) => {
    if (req.url === "/api/plugins" && req.method === "GET") return json(200, { items: installed });
    return rest(req);
  };
}

const calls = (spy: ReturnType<typeof mockFetch>, method: string, prefix: string) =>
  spy.mock.calls.filter((c) => String(c[0]).startsWith(prefix) && (c[1]?.method ?? "GET") === method);

const card = (name: string) => screen.getByRole("listitem", { name });

describe("plugins page for a user who is not an operator", () => {
  it("is read-only: no upload and no remove controls", async () => {
    const spy = mockFetch(signedIn(pluginServer(PLUGINS), ME));
    renderApp("/plugins");
    expect(await screen.findByRole("heading", { name: "Webhook" })).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Install a plugin" })).not.toBeInTheDocument();
    expect(screen.queryByLabelText(FILE_LABEL)).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Install plugin" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Remove/ })).not.toBeInTheDocument();
    expect(screen.getByText(/^Channel plugins send deliveries/)).toHaveTextContent(
      "Each runs sandboxed as WebAssembly. Operators install more from .wasm files (see the operator docs).",
    );
    expect(spy.mock.calls.every((c) => (c[1]?.method ?? "GET") === "GET" || c[0] === "/api/auth/refresh")).toBe(true);
  });

  it("stays read-only when the server does not report is_admin (older server)", async () => {
    const { is_admin: _, ...older } = ME;
    mockFetch(signedIn(pluginServer(PLUGINS), older as typeof ME));
    renderApp("/plugins");
    await screen.findByRole("heading", { name: "Webhook" });
    expect(screen.queryByLabelText(FILE_LABEL)).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /^Remove/ })).not.toBeInTheDocument();
  });
});

describe("installing a plugin (operator)", () => {
  it("uploads the file as multipart field `file`, shows the installed id and version, and lists it", async () => {
    const installed = [...PLUGINS];
    const spy = mockFetch(
      signedIn(
        pluginServer(installed, ({ url, method, body }) => {
          if (url === "/api/plugins" && method === "POST") {
            const file = (body as FormData).get("file") as File;
            expect(file.name).toBe("http-post-wit-0.2.0.wasm");
            installed.push(HTTP_POST);
            return json(201, HTTP_POST);
          }
          return json(404, {});
        }),
        OPERATOR,
      ),
    );
    const { user } = renderApp("/plugins");
    const input = await screen.findByLabelText(FILE_LABEL);
    expect(input).toHaveAttribute("type", "file");
    expect(input).toHaveAttribute("accept", ".wasm,application/wasm");
    expect(screen.getByText(/^Channel plugins send deliveries/)).toHaveTextContent(
      "Each runs sandboxed as WebAssembly. As an operator you can install more from .wasm files and remove those that are not built in, for every user.",
    );

    await user.upload(input, wasm("http-post-wit-0.2.0.wasm"));
    await user.click(screen.getByRole("button", { name: "Install plugin" }));
    expect(await screen.findByTestId("plugin-installed")).toHaveTextContent("Installed HTTP POST (http-post), version 0.1.0.");
    expect(calls(spy, "POST", "/api/plugins")).toHaveLength(1);
    // The list is fetched again and shows the new plugin, removable.
    expect(await screen.findByRole("heading", { name: "HTTP POST" })).toBeInTheDocument();
    expect(within(card("HTTP POST")).getByText("http-post")).toBeInTheDocument();
    expect(within(card("HTTP POST")).getByRole("button", { name: "Remove HTTP POST" })).toBeInTheDocument();
    // The input is cleared for the next upload.
    expect((input as HTMLInputElement).files).toHaveLength(0);
    expect(errorFor(FILE_LABEL)).toBeNull();
  });

  it("says when the upload upgraded an installed plugin", async () => {
    const installed = [...PLUGINS];
    const newer = { ...WEBHOOK, version: "0.3.0" };
    mockFetch(
      signedIn(
        pluginServer(installed, ({ url, method }) => {
          if (url === "/api/plugins" && method === "POST") {
            installed.splice(installed.indexOf(WEBHOOK), 1, newer);
            return json(201, newer);
          }
          return json(404, {});
        }),
        OPERATOR,
      ),
    );
    const { user } = renderApp("/plugins");
    await user.upload(await screen.findByLabelText(FILE_LABEL), wasm("webhook.wasm"));
    await user.click(screen.getByRole("button", { name: "Install plugin" }));
    expect(await screen.findByTestId("plugin-installed")).toHaveTextContent("Upgraded Webhook (webhook) from version 0.2.0 to 0.3.0.");
    await waitFor(() => expect(within(card("Webhook")).getByText("0.3.0")).toBeInTheDocument());
  });

  it.each([
    [422, "not_a_component", "the file is not a WebAssembly component: magic header not detected"],
    [422, "wrong_world", "the component does not implement the beacon:plugin world (exports neither channel nor filter)"],
    [422, "unsupported_wit_version", "beacon:plugin@0.9.0 is not supported by this host (supported: 0.2.x, 0.3.x)"],
    [422, "capability_not_granted", "the plugin imports mqtt-publish, which the operator has not granted (BEACON_PLUGIN_CAPABILITIES)"],
    [422, "plugin_refused", "the plugin trapped while describing itself: unreachable"],
    [409, "builtin_plugin", "bark is a built-in plugin and cannot be replaced"],
    [409, "plugin_version_exists", "http-post 0.1.0 is already installed"],
    [413, "payload_too_large", "the request body is larger than 33554432 bytes"],
    [403, "operators_only", "only an operator may do this (beacon user promote EMAIL)"],
    [400, "missing_file", 'send the component as the multipart field "file"'],
  ])("shows the server's %i %s message next to the file input", async (status, code, message) => {
    mockFetch(
      signedIn(
        pluginServer(PLUGINS, ({ url, method }) =>
          url === "/api/plugins" && method === "POST"
            ? apiError(status, code, message, status === 422 || status === 409 || status === 400 ? "file" : undefined)
            : json(404, {}),
        ),
        OPERATOR,
      ),
    );
    const { user } = renderApp("/plugins");
    const input = await screen.findByLabelText(FILE_LABEL);
    await user.upload(input, wasm());
    await user.click(screen.getByRole("button", { name: "Install plugin" }));
    await waitFor(() => expect(errorFor(FILE_LABEL)).toBe(message));
    expect(input).toHaveAttribute("aria-invalid", "true");
    expect(screen.queryByTestId("plugin-installed")).not.toBeInTheDocument();
  });

  it("shows markup in a refusal as plain text, and clears the error when another file is chosen", async () => {
    const message = '<img src=x onerror="alert(1)"> is not a component';
    mockFetch(
      signedIn(
        pluginServer(PLUGINS, ({ url, method }) =>
          url === "/api/plugins" && method === "POST" ? apiError(422, "not_a_component", message, "file") : json(404, {}),
        ),
        OPERATOR,
      ),
    );
    const { user, container } = renderApp("/plugins");
    const input = await screen.findByLabelText(FILE_LABEL);
    await user.upload(input, wasm("notes.wasm", [104, 105]));
    await user.click(screen.getByRole("button", { name: "Install plugin" }));
    await waitFor(() => expect(errorFor(FILE_LABEL)).toBe(message));
    expect(container.querySelector('img[src="x"]')).toBeNull();
    await user.upload(input, wasm("other.wasm"));
    expect(errorFor(FILE_LABEL)).toBeNull();
  });

  it("asks for a file, and refuses one over 32 MiB without uploading it", async () => {
    const spy = mockFetch(signedIn(pluginServer(PLUGINS), OPERATOR));
    const { user } = renderApp("/plugins");
    const input = await screen.findByLabelText(FILE_LABEL);
    await user.click(screen.getByRole("button", { name: "Install plugin" }));
    expect(errorFor(FILE_LABEL)).toBe("Choose a .wasm file first.");

    const huge = wasm("huge.wasm");
    Object.defineProperty(huge, "size", { value: 40 * 1024 * 1024 });
    await user.upload(input, huge);
    await user.click(screen.getByRole("button", { name: "Install plugin" }));
    expect(errorFor(FILE_LABEL)).toBe("The file is 40 MiB; the server accepts components up to 32 MiB.");
    expect(calls(spy, "POST", "/api/plugins")).toHaveLength(0);
  });
});

describe("removing a plugin (operator)", () => {
  it("offers Remove on installed plugins only, never on built-in ones", async () => {
    mockFetch(signedIn(pluginServer(PLUGINS), OPERATOR));
    renderApp("/plugins");
    await screen.findByRole("heading", { name: "Webhook" });
    for (const p of [WEBHOOK, KEYWORD_FILTER]) {
      expect(within(card(p.name)).getByRole("button", { name: `Remove ${p.name}` })).toBeInTheDocument();
    }
    for (const p of [BARK, STANDARD_FILTER]) {
      expect(within(card(p.name)).queryByRole("button", { name: /^Remove/ })).not.toBeInTheDocument();
    }
  });

  it("asks first; Cancel removes nothing; Remove deletes it and the list follows", async () => {
    const installed = [...PLUGINS];
    const spy = mockFetch(
      signedIn(
        pluginServer(installed, ({ url, method }) => {
          if (url === "/api/plugins/webhook" && method === "DELETE") {
            installed.splice(installed.indexOf(WEBHOOK), 1);
            return new Response(null, { status: 204 });
          }
          return json(404, {});
        }),
        OPERATOR,
      ),
    );
    const { user } = renderApp("/plugins");
    await user.click(await screen.findByRole("button", { name: "Remove Webhook" }));
    let dialog = await screen.findByRole("alertdialog", { name: "Remove “Webhook”?" });
    expect(dialog).toHaveTextContent("Webhook (webhook, version 0.2.0) is uninstalled for every user of this server.");
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument());
    expect(calls(spy, "DELETE", "/api/plugins")).toHaveLength(0);

    await user.click(screen.getByRole("button", { name: "Remove Webhook" }));
    dialog = await screen.findByRole("alertdialog", { name: "Remove “Webhook”?" });
    await user.click(within(dialog).getByRole("button", { name: "Remove" }));
    expect(await screen.findByTestId("plugin-removed")).toHaveTextContent("Removed Webhook (webhook).");
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(calls(spy, "DELETE", "/api/plugins").map((c) => c[0])).toEqual(["/api/plugins/webhook"]);
    await waitFor(() => expect(screen.queryByRole("heading", { name: "Webhook" })).not.toBeInTheDocument());
  });

  it("when channels or rules use it: shows the server's message, warns, and removes only with “Remove anyway” (force)", async () => {
    const installed = [...PLUGINS];
    const inUse = "webhook is used by 2 channel(s) and 1 rule(s); remove with force=true to break them";
    const spy = mockFetch(
      signedIn(
        pluginServer(installed, ({ url, method }) => {
          if (url === "/api/plugins/webhook" && method === "DELETE") return apiError(409, "plugin_in_use", inUse);
          if (url === "/api/plugins/webhook?force=true" && method === "DELETE") {
            installed.splice(installed.indexOf(WEBHOOK), 1);
            return new Response(null, { status: 204 });
          }
          return json(404, {});
        }),
        OPERATOR,
      ),
    );
    const { user } = renderApp("/plugins");
    await user.click(await screen.findByRole("button", { name: "Remove Webhook" }));
    let dialog = await screen.findByRole("alertdialog", { name: "Remove “Webhook”?" });
    await user.click(within(dialog).getByRole("button", { name: "Remove" }));
    expect(await within(dialog).findByTestId("plugin-in-use")).toHaveTextContent(inUse);
    expect(within(dialog).getByTestId("plugin-force-warning")).toHaveTextContent(
      "Removing it anyway breaks them: the channels and rules using Webhook stop working — their deliveries wait with an error — until the plugin is installed again.",
    );
    expect(within(dialog).queryByRole("button", { name: "Remove" })).not.toBeInTheDocument();
    // Nothing was removed yet; cancelling leaves it installed and the next try starts over.
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument());
    expect(screen.getByRole("heading", { name: "Webhook" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Remove Webhook" }));
    dialog = await screen.findByRole("alertdialog", { name: "Remove “Webhook”?" });
    expect(within(dialog).queryByTestId("plugin-in-use")).not.toBeInTheDocument();
    await user.click(within(dialog).getByRole("button", { name: "Remove" }));
    await user.click(await within(dialog).findByRole("button", { name: "Remove anyway" }));

    expect(await screen.findByTestId("plugin-removed")).toHaveTextContent(
      "Removed Webhook (webhook). The channels and rules that used it stop working until it is installed again.",
    );
    expect(calls(spy, "DELETE", "/api/plugins").map((c) => c[0])).toEqual([
      "/api/plugins/webhook",
      "/api/plugins/webhook",
      "/api/plugins/webhook?force=true",
    ]);
    await waitFor(() => expect(screen.queryByRole("heading", { name: "Webhook" })).not.toBeInTheDocument());
  });

  it.each([
    [409, "builtin_plugin", "webhook is built in and cannot be removed"],
    [404, "not_found", "the requested resource does not exist"],
    [403, "operators_only", "only an operator may do this (beacon user promote EMAIL)"],
  ])("shows a %i %s refusal in the dialog without offering force", async (status, code, message) => {
    mockFetch(
      signedIn(
        pluginServer(PLUGINS, ({ url, method }) => (url.startsWith("/api/plugins/") && method === "DELETE" ? apiError(status, code, message) : json(404, {}))),
        OPERATOR,
      ),
    );
    const { user } = renderApp("/plugins");
    await user.click(await screen.findByRole("button", { name: "Remove Keyword filter" }));
    const dialog = await screen.findByRole("alertdialog", { name: "Remove “Keyword filter”?" });
    await user.click(within(dialog).getByRole("button", { name: "Remove" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent(message);
    expect(within(dialog).queryByRole("button", { name: "Remove anyway" })).not.toBeInTheDocument();
    expect(screen.queryByTestId("plugin-removed")).not.toBeInTheDocument();
  });
});
