import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Channel } from "../../api/types";
import { apiError, json, mockFetch } from "../../test/http";
import { CHANNEL, errorFor, ME, PLUGINS, signedIn } from "../../test/fixtures";
import { renderApp } from "../../test/render";

afterEach(() => vi.unstubAllGlobals());

const calls = (spy: ReturnType<typeof mockFetch>, method: string, url: string) =>
  spy.mock.calls.filter((c) => c[0] === url && (c[1]?.method ?? "GET") === method).map((c) => JSON.parse(String(c[1]?.body ?? "null")));

describe("new channel", () => {
  it("offers channel plugins only, draws Bark's schema, and keeps unknown keys added in JSON mode", async () => {
    let created: Channel | undefined;
    const spy = mockFetch(
      signedIn(({ url, method, body }) => {
        if (url === "/api/plugins") return json(200, { items: PLUGINS });
        if (url === "/api/channels" && method === "POST") {
          created = { ...CHANNEL, id: "c9", ...(body as object), config: { ...(body as Channel).config, device_key: "********" } };
          return json(201, created);
        }
        if (url === "/api/channels/c9") return json(200, created);
        if (url === "/api/channels") return json(200, { items: created ? [created] : [] });
        return json(404, {});
      }),
    );
    const { user, router } = renderApp("/channels/new");
    const plugin = await screen.findByLabelText("Plugin");
    expect(plugin).toHaveValue("bark");
    expect(within(plugin).getAllByRole("option").map((o) => (o as HTMLOptionElement).value)).toEqual(["bark", "webhook"]);

    await user.type(screen.getByLabelText("Name"), "Phone");
    await user.type(screen.getByLabelText(/Server base URL/), "https://api.day.app");
    const key = screen.getByLabelText("Device key");
    expect(key).toHaveAttribute("type", "password");
    await user.type(key, "s3cret");

    await user.click(screen.getByRole("tab", { name: "JSON" }));
    const raw = screen.getByLabelText("Settings (JSON)") as HTMLTextAreaElement;
    expect(JSON.parse(raw.value)).toEqual({ server_base_url: "https://api.day.app", device_key: "s3cret" });
    fireEvent.change(raw, { target: { value: JSON.stringify({ ...JSON.parse(raw.value), sound: "bell", isArchive: "1" }) } });
    await user.click(screen.getByRole("tab", { name: "Form" }));
    await user.click(screen.getByRole("button", { name: "Create channel" }));

    await waitFor(() => expect(router.state.location.pathname).toBe("/channels/c9"));
    expect(calls(spy, "POST", "/api/channels")).toEqual([
      {
        name: "Phone",
        plugin: "bark",
        enabled: true,
        config: { server_base_url: "https://api.day.app", device_key: "s3cret", sound: "bell", isArchive: "1" },
      },
    ]);
    expect(await screen.findByText(/Channel created/)).toBeInTheDocument();
  });

  it("checks required fields first, then shows the API's config errors next to their fields", async () => {
    let answer = apiError(422, "validation_failed", "one of device_key or device_keys is required", "config.device_key");
    const spy = mockFetch(
      signedIn(({ url, method }) => {
        if (url === "/api/plugins") return json(200, { items: PLUGINS });
        if (url === "/api/channels" && method === "POST") return answer;
        return json(404, {});
      }),
    );
    const { user } = renderApp("/channels/new");
    await user.click(await screen.findByRole("button", { name: "Create channel" }));
    expect(errorFor("Name")).toBe("Give the channel a name.");
    expect(errorFor(/Server base URL/)).toBe("Required.");
    expect(calls(spy, "POST", "/api/channels")).toHaveLength(0);

    await user.type(screen.getByLabelText("Name"), "Phone");
    await user.type(screen.getByLabelText(/Server base URL/), "https://api.day.app");
    await user.click(screen.getByRole("button", { name: "Create channel" }));
    await waitFor(() => expect(errorFor("Device key")).toBe("one of device_key or device_keys is required"));

    answer = apiError(422, "validation_failed", "must not be empty", "config.device_keys[1]");
    await user.type(screen.getByLabelText("Device keys"), "k1");
    await user.click(screen.getByRole("button", { name: "Create channel" }));
    await waitFor(() => expect(errorFor("Device keys")).toBe("Item 2: must not be empty"));
    expect(errorFor("Device key")).toBeNull();

    answer = apiError(422, "validation_failed", "must be 1 to 100 characters", "name");
    await user.click(screen.getByRole("button", { name: "Create channel" }));
    await waitFor(() => expect(errorFor("Name")).toBe("must be 1 to 100 characters"));
  });

  it("disables creating for unverified users", async () => {
    mockFetch(
      signedIn(({ url }) => {
        if (url === "/api/plugins") return json(200, { items: PLUGINS });
        if (url === "/api/channels") return json(200, { items: [] });
        return json(404, {});
      }, { ...ME, email_verified: false }),
    );
    const { user } = renderApp("/channels");
    expect(await screen.findByRole("button", { name: "New channel" })).toBeDisabled();
    await user.click(screen.getByRole("link", { name: "Channels" }));
    expect(await screen.findByText("No channels yet")).toBeInTheDocument();
  });
});

describe("channel detail", () => {
  function handler(state: { channel: Channel }) {
    return signedIn(({ url, method, body }) => {
      if (url === "/api/plugins") return json(200, { items: PLUGINS });
      if (url === "/api/channels/c1" && method === "PATCH") {
        state.channel = { ...state.channel, ...(body as object), updated_at: "2025-03-02T10:00:00Z" };
        return json(200, state.channel);
      }
      if (url === "/api/channels/c1" && method === "DELETE") return new Response(null, { status: 204 });
      if (url === "/api/channels/c1") return json(200, state.channel);
      if (url === "/api/channels/c1/test")
        return json(200, { ok: false, http_status: 400, response_snippet: '{"code":400,"message":"failed to get device token"}', error: "Bark answered code 400" });
      if (url === "/api/channels") return json(200, { items: [state.channel] });
      if (url === "/api/rules") return json(200, { items: [] });
      return json(404, {});
    });
  }

  it("sends the secret mask back unchanged (the server keeps the stored key) and shows test results", async () => {
    const state = { channel: CHANNEL };
    const spy = mockFetch(handler(state));
    const { user } = renderApp("/channels/c1");
    const key = await screen.findByLabelText("Device key");
    expect(key).toHaveValue("********");
    expect(screen.getByText(/Stored secret/)).toBeInTheDocument();
    expect(screen.getByLabelText("Plugin")).toBeDisabled();

    const name = screen.getByLabelText("Name");
    await user.clear(name);
    await user.type(name, "Phone 2");
    await user.click(screen.getByLabelText("Enabled"));
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    expect(await screen.findByText("Changes saved.")).toBeInTheDocument();
    expect(calls(spy, "PATCH", "/api/channels/c1")).toEqual([
      { name: "Phone 2", enabled: false, config: { server_base_url: "https://api.day.app", device_key: "********", sound: "bell" } },
    ]);
    expect(await screen.findByRole("heading", { name: "Phone 2" })).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Send test notification" }));
    expect(await screen.findByText("Test failed (HTTP 400): Bark answered code 400")).toBeInTheDocument();
    expect(screen.getByText("Server response")).toBeInTheDocument();
  });

  it("deletes after confirmation", async () => {
    const spy = mockFetch(handler({ channel: CHANNEL }));
    const { user, router } = renderApp("/channels/c1");
    await user.click(await screen.findByRole("button", { name: "Delete channel" }));
    const dialog = await screen.findByRole("alertdialog");
    expect(within(dialog).getByText(/Rules that send to this channel are deleted/)).toBeInTheDocument();
    await user.click(within(dialog).getByRole("button", { name: "Delete channel" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/channels"));
    expect(spy.mock.calls.some((c) => c[0] === "/api/channels/c1" && c[1]?.method === "DELETE")).toBe(true);
  });
});
