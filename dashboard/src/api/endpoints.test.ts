import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { apiError, json, mockFetch } from "../test/http";
import { ApiError, resetClientState, setAccessToken } from "./client";
import { channelsApi, endpointsApi, messagesApi, pluginsApi, qk } from "./endpoints";

beforeEach(() => {
  resetClientState();
  setAccessToken("t1");
});
afterEach(() => vi.unstubAllGlobals());

const only = (spy: ReturnType<typeof mockFetch>) => {
  expect(spy).toHaveBeenCalledTimes(1);
  const [url, init] = spy.mock.calls[0];
  return { url, method: init?.method ?? "GET", body: init?.body === undefined ? undefined : JSON.parse(String(init.body)) };
};

describe("plugins API client", () => {
  it("get: GET /api/plugins/{id} (escaped), with who uses it", async () => {
    const detail = { id: "my plugin", used_by: [{ kind: "channel", id: "c1", name: "Hook", pinned_version: null, running_version: "0.2.0" }] };
    const spy = mockFetch(() => json(200, detail));
    await expect(pluginsApi.get("my plugin")).resolves.toEqual(detail);
    expect(only(spy)).toEqual({ url: "/api/plugins/my%20plugin", method: "GET", body: undefined });
  });

  it("setGrants: PUT /api/plugins/{id}/grants with the whole grants object, nulls included", async () => {
    const grants = { allowed_hosts: ["api.example.com"], allow_private_networks: null, memory_mib: 32, timeout_ms: null, capabilities: ["http", "log"] };
    const spy = mockFetch(({ body }) => json(200, { id: "http-post", grants: body }));
    await expect(pluginsApi.setGrants("http-post", grants)).resolves.toMatchObject({ grants });
    expect(only(spy)).toEqual({ url: "/api/plugins/http-post/grants", method: "PUT", body: grants });
    expect(spy.mock.calls[0][1]?.body).toContain('"allow_private_networks":null');
  });

  it("setGrants: a refusal keeps the field the server named", async () => {
    mockFetch(() => apiError(422, "invalid_grant", "empty host", "allowed_hosts[0]"));
    const err = await pluginsApi
      .setGrants("http-post", { allowed_hosts: [""], allow_private_networks: null, memory_mib: null, timeout_ms: null, capabilities: null })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, code: "invalid_grant", field: "allowed_hosts[0]", message: "empty host" });
  });

  it("removeVersion: DELETE /api/plugins/{id}/versions/{version}, saying force=false or force=true", async () => {
    const spy = mockFetch(() => new Response(null, { status: 204 }));
    await expect(pluginsApi.removeVersion("http-post", "0.1.0")).resolves.toBeUndefined();
    await pluginsApi.removeVersion("http-post", "1.0.0+build/7", true);
    expect(spy.mock.calls.map((c) => [c[0], c[1]?.method])).toEqual([
      ["/api/plugins/http-post/versions/0.1.0?force=false", "DELETE"],
      ["/api/plugins/http-post/versions/1.0.0%2Bbuild%2F7?force=true", "DELETE"],
    ]);
  });

  it("the detail's query key sits under the list's, so invalidating the list refreshes it", () => {
    expect(qk.plugin("x").slice(0, qk.plugins.length)).toEqual([...qk.plugins]);
  });
});

describe("channels API client: plugin versions", () => {
  it("create and update send plugin_version as given (a version pins, null unpins)", async () => {
    const spy = mockFetch(({ body }) => json(200, body));
    await channelsApi.create({ name: "Hook", plugin: "http-post", enabled: true, config: {}, plugin_version: "0.1.0" });
    await channelsApi.update("c1", { plugin_version: null });
    expect(spy.mock.calls.map((c) => [c[0], c[1]?.method, JSON.parse(String(c[1]?.body))])).toEqual([
      ["/api/channels", "POST", { name: "Hook", plugin: "http-post", enabled: true, config: {}, plugin_version: "0.1.0" }],
      ["/api/channels/c1", "PATCH", { plugin_version: null }],
    ]);
  });
});

describe("messages API client: scheduled delivery", () => {
  it("list: scheduled=true only when asked, combined with the other filters and the cursor", async () => {
    const spy = mockFetch(() => json(200, { items: [], next_cursor: null }));
    await messagesApi.list({ scheduled: true, q: "disk" }, "c1", 50);
    await messagesApi.list({ q: "disk" });
    expect(spy.mock.calls.map((c) => c[0])).toEqual([
      "/api/messages?scheduled=true&q=disk&cursor=c1&limit=50",
      "/api/messages?q=disk&limit=50",
    ]);
  });

  it("scheduled and unscheduled lists are cached apart", () => {
    expect(qk.messages({ scheduled: true })).not.toEqual(qk.messages({}));
  });

  it("remove (cancelling a scheduled delivery): DELETE /api/messages/{id}", async () => {
    const spy = mockFetch(() => new Response(null, { status: 204 }));
    await expect(messagesApi.remove("m 1")).resolves.toBeUndefined();
    expect(only(spy)).toEqual({ url: "/api/messages/m%201", method: "DELETE", body: undefined });
  });
});

describe("endpoints API client: adapters", () => {
  it("get, setAdapter (PUT), clearAdapter (DELETE) and testAdapter (POST …/adapter/test), with the id escaped", async () => {
    const spy = mockFetch(({ body }) => json(200, body ?? { id: "e 1", adapter: null }));
    await endpointsApi.get("e 1");
    await endpointsApi.setAdapter("e 1", { plugin: "json-map", plugin_version: null, config: { body: "/msg" } });
    await endpointsApi.clearAdapter("e 1");
    await endpointsApi.testAdapter("e 1", { adapter: { plugin: "github", config: { secret: "********" } }, body: "{}", headers: { "X-GitHub-Event": "ping" } });
    expect(spy.mock.calls.map((c) => [c[0], c[1]?.method ?? "GET", c[1]?.body === undefined ? undefined : JSON.parse(String(c[1].body))])).toEqual([
      ["/api/ingest-endpoints/e%201", "GET", undefined],
      ["/api/ingest-endpoints/e%201/adapter", "PUT", { plugin: "json-map", plugin_version: null, config: { body: "/msg" } }],
      ["/api/ingest-endpoints/e%201/adapter", "DELETE", undefined],
      [
        "/api/ingest-endpoints/e%201/adapter/test",
        "POST",
        { adapter: { plugin: "github", config: { secret: "********" } }, body: "{}", headers: { "X-GitHub-Event": "ping" } },
      ],
    ]);
  });

  it("a refused setting keeps the field the server named (config.<path>)", async () => {
    mockFetch(() => apiError(422, "validation_failed", "missing field `body`", "config.body"));
    const err = await endpointsApi.setAdapter("e1", { plugin: "json-map", config: {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, code: "validation_failed", field: "config.body" });
  });

  it("the endpoint's query key sits under the lists', so invalidating them refreshes it", () => {
    expect(qk.endpoint("e1").slice(0, qk.endpointsAll.length)).toEqual([...qk.endpointsAll]);
  });
});
