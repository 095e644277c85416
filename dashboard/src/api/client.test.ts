import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, errorMessage, getAccessToken, onSessionExpired, resetClientState, setAccessToken } from "./client";
import { apiError, json, mockFetch } from "../test/http";

beforeEach(() => resetClientState());
afterEach(() => vi.unstubAllGlobals());

describe("api client", () => {
  it("sends the bearer token and parses JSON", async () => {
    setAccessToken("t1");
    const spy = mockFetch(({ headers }) => json(200, { auth: headers.get("Authorization") }));
    await expect(api("/api/auth/me")).resolves.toEqual({ auth: "Bearer t1" });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0][1]).toMatchObject({ credentials: "same-origin" });
  });

  it("refreshes once on 401 and retries with the new token", async () => {
    setAccessToken("expired");
    const spy = mockFetch(({ url, headers }) => {
      if (url === "/api/auth/refresh") return json(200, { access_token: "fresh", token_type: "Bearer", expires_in: 900 });
      return headers.get("Authorization") === "Bearer fresh"
        ? json(200, { items: [] })
        : apiError(401, "unauthorized", "Token expired.");
    });
    await expect(api("/api/ingest-endpoints")).resolves.toEqual({ items: [] });
    expect(spy.mock.calls.map((c) => c[0])).toEqual(["/api/ingest-endpoints", "/api/auth/refresh", "/api/ingest-endpoints"]);
    expect(getAccessToken()).toBe("fresh");
  });

  it("shares one refresh between concurrent 401s (refresh tokens rotate)", async () => {
    setAccessToken("expired");
    let refreshes = 0;
    mockFetch(async ({ url, headers }) => {
      if (url === "/api/auth/refresh") {
        refreshes++;
        await new Promise((r) => setTimeout(r, 5));
        return json(200, { access_token: "fresh", token_type: "Bearer", expires_in: 900 });
      }
      return headers.get("Authorization") === "Bearer fresh" ? json(200, { url }) : apiError(401, "unauthorized", "x");
    });
    const results = await Promise.all([api("/api/a"), api("/api/b"), api("/api/c")]);
    expect(results).toEqual([{ url: "/api/a" }, { url: "/api/b" }, { url: "/api/c" }]);
    expect(refreshes).toBe(1);
  });

  it("ends the session when the refresh fails, without looping", async () => {
    setAccessToken("expired");
    const expired = vi.fn();
    onSessionExpired(expired);
    const spy = mockFetch(({ url }) =>
      url === "/api/auth/refresh" ? apiError(401, "invalid_refresh_token", "Log in again.") : apiError(401, "unauthorized", "Token expired."),
    );
    const err = await api("/api/messages").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect(spy).toHaveBeenCalledTimes(2);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(getAccessToken()).toBeNull();
  });

  it("does not refresh for unauthenticated calls such as login", async () => {
    const spy = mockFetch(() => apiError(401, "invalid_credentials", "Wrong e-mail or password."));
    const err = await api("/api/auth/login", { method: "POST", body: {}, auth: false }).catch((e: unknown) => e);
    expect((err as ApiError).code).toBe("invalid_credentials");
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it("maps error bodies, fields and Retry-After", async () => {
    mockFetch(({ url }) =>
      url.includes("signup")
        ? apiError(409, "email_taken", "That e-mail is already registered.", "email")
        : apiError(429, "rate_limited", "Too many requests.", undefined, { "Retry-After": "42" }),
    );
    const taken = (await api("/api/auth/signup", { method: "POST", body: {}, auth: false }).catch((e) => e)) as ApiError;
    expect([taken.status, taken.code, taken.field, taken.message]).toEqual([409, "email_taken", "email", "That e-mail is already registered."]);
    const limited = (await api("/api/auth/login", { method: "POST", body: {}, auth: false }).catch((e) => e)) as ApiError;
    expect(limited.retryAfter).toBe(42);
    expect(errorMessage(limited)).toBe("Too many attempts. Try again in 42 s.");
  });

  it("returns undefined for 204 and survives non-JSON error pages", async () => {
    mockFetch(({ url }) => (url.endsWith("logout") ? new Response(null, { status: 204 }) : new Response("<html>", { status: 502 })));
    await expect(api("/api/auth/logout", { method: "POST", auth: false })).resolves.toBeUndefined();
    const err = (await api("/api/x", { auth: false }).catch((e) => e)) as ApiError;
    expect(err.status).toBe(502);
    expect(err.message).toMatch(/server had a problem/);
  });

  it("sends FormData as multipart (no JSON content type), also on the retry after a refresh", async () => {
    setAccessToken("expired");
    const seen: { auth: string | null; type: string | null; file: unknown }[] = [];
    mockFetch(({ url, headers, body }) => {
      if (url === "/api/auth/refresh") return json(200, { access_token: "fresh", token_type: "Bearer", expires_in: 900 });
      seen.push({ auth: headers.get("Authorization"), type: headers.get("Content-Type"), file: (body as FormData).get("file") });
      return headers.get("Authorization") === "Bearer fresh" ? json(201, { id: "p" }) : apiError(401, "unauthorized", "x");
    });
    const form = new FormData();
    form.append("file", new File([new Uint8Array([0, 97, 115, 109])], "p.wasm"));
    await expect(api("/api/plugins", { method: "POST", body: form })).resolves.toEqual({ id: "p" });
    expect(seen.map((s) => [s.auth, s.type])).toEqual([
      ["Bearer expired", null],
      ["Bearer fresh", null],
    ]);
    expect(seen.every((s) => s.file instanceof File && s.file.name === "p.wasm")).toBe(true);
  });

  it("names a 413 without a JSON body (a proxy's limit) for what it is", async () => {
    mockFetch(() => new Response("<html>413</html>", { status: 413 }));
    const err = (await api("/api/plugins", { method: "POST", body: new FormData() }).catch((e) => e)) as ApiError;
    expect([err.status, err.code, err.message]).toEqual([413, "payload_too_large", "The upload is larger than the server accepts."]);
  });

  it("builds query strings without empty values", async () => {
    const spy = mockFetch(() => json(200, {}));
    await api("/api/messages", { query: { q: "disk full", tag: "", limit: 10, cursor: undefined } });
    expect(spy.mock.calls[0][0]).toBe("/api/messages?q=disk+full&limit=10");
  });
});
