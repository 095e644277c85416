import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { apiError, json } from "../test/http";
import { getAccessToken, onSessionExpired, resetClientState, setAccessToken } from "./client";
import { backoffDelay, runEventStream, SseParser, toLiveEvent, type LiveEvent } from "./events";

describe("SseParser", () => {
  it("parses frames split at any point, with comments and CRLF/CR line ends", () => {
    const text =
      "\uFEFF: keep-alive\r\n\r\nevent: message\r\ndata: {\"id\":\"m1\",\"endpoint_id\":\"e1\",\"received_at\":\"t\"}\r\n\r\n" +
      "event: delivery\rdata: {\"id\":\"d1\",\"message_id\":\"m1\",\"status\":\"sent\"}\r\rdata: plain\n\n";
    // Every split position must give the same frames.
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser();
      const frames = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))];
      expect(frames, `cut at ${cut}`).toEqual([
        { event: "message", data: '{"id":"m1","endpoint_id":"e1","received_at":"t"}' },
        { event: "delivery", data: '{"id":"d1","message_id":"m1","status":"sent"}' },
        { event: "message", data: "plain" },
      ]);
    }
  });

  it("joins multi-line data, keeps id and retry, and drops frames without data", () => {
    const p = new SseParser();
    expect(p.push("event: ping\n\n")).toEqual([]);
    expect(p.push("id: 7\nretry: 2500\ndata: a\ndata:b\ndata\n\n")).toEqual([
      { event: "message", data: "a\nb\n", id: "7", retry: 2500 },
    ]);
    // The event name resets after each frame; the last id persists (per spec).
    expect(p.push("data: x\n")).toEqual([]);
    expect(p.push("\n")).toEqual([{ event: "message", data: "x", id: "7" }]);
  });

  it("does not treat a chunk boundary between CR and LF as an empty line", () => {
    const p = new SseParser();
    expect(p.push("data: a\r")).toEqual([]);
    expect(p.push("\ndata: b\r\n")).toEqual([]);
    expect(p.push("\r\n")).toEqual([{ event: "message", data: "a\nb" }]);
  });
});

describe("toLiveEvent", () => {
  it("accepts message and delivery frames with the fields the app needs", () => {
    expect(toLiveEvent({ event: "message", data: '{"id":"m1","endpoint_id":"e","received_at":"t"}' })).toEqual({
      type: "message",
      data: { id: "m1", endpoint_id: "e", received_at: "t" },
    });
    expect(toLiveEvent({ event: "delivery", data: '{"id":"d1","message_id":"m1","status":"sent"}' })?.type).toBe("delivery");
    expect(toLiveEvent({ event: "delivery", data: '{"id":"d1"}' })).toBeUndefined();
    expect(toLiveEvent({ event: "message", data: "not json" })).toBeUndefined();
    expect(toLiveEvent({ event: "other", data: '{"id":"x"}' })).toBeUndefined();
    expect(toLiveEvent({ event: "resync", data: "{}" })).toEqual({ type: "resync" });
  });
});

describe("backoffDelay", () => {
  it("grows exponentially, is capped, jitters ±20 % and honours the server's retry", () => {
    expect(backoffDelay(0, () => 0.5)).toBe(1000);
    expect(backoffDelay(3, () => 0.5)).toBe(8000);
    expect(backoffDelay(30, () => 0.5)).toBe(30000);
    expect(backoffDelay(0, () => 0)).toBe(800);
    expect(backoffDelay(0, () => 1)).toBe(1200);
    expect(backoffDelay(0, () => 0.5, 5000)).toBe(5000);
  });
});

/** A streaming Response whose chunks the test pushes. */
function streamResponse() {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctrl = c) });
  const enc = new TextEncoder();
  return {
    response: new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } }),
    send: (text: string) => ctrl.enqueue(enc.encode(text)),
    close: () => ctrl.close(),
    error: () => ctrl.error(new TypeError("network")),
  };
}

describe("runEventStream", () => {
  beforeEach(() => resetClientState());
  afterEach(() => vi.unstubAllGlobals());

  it("sends the bearer token, delivers events, and reconnects with backoff after a drop", async () => {
    setAccessToken("t1");
    const streams = [streamResponse(), streamResponse()];
    const calls: { url: string; auth: string | null }[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit) => {
        calls.push({ url, auth: new Headers(init.headers).get("Authorization") });
        if (calls.length === 2) throw new TypeError("offline"); // network error between the two streams
        return streams[calls.length === 1 ? 0 : 1].response;
      }),
    );
    const events: LiveEvent[] = [];
    const opens: boolean[] = [];
    const sleeps: number[] = [];
    const controller = new AbortController();
    const done = runEventStream({
      signal: controller.signal,
      onEvent: (e) => events.push(e),
      onOpen: (re) => opens.push(re),
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0.5,
    });
    streams[0].send('event: message\ndata: {"id":"m1","endpoint_id":"e","received_at":"t"}\n\n: ka\n\n');
    await vi.waitFor(() => expect(events).toHaveLength(1));
    streams[0].error();
    await vi.waitFor(() => expect(calls).toHaveLength(3));
    streams[1].send('event: delivery\ndata: {"id":"d1","message_id":"m1","status":"sent"}\n\n');
    await vi.waitFor(() => expect(events).toHaveLength(2));
    controller.abort();
    await done;
    expect(calls.every((c) => c.url === "/api/events" && c.auth === "Bearer t1")).toBe(true);
    expect(events.map((e) => e.type)).toEqual(["message", "delivery"]);
    expect(opens).toEqual([false, true]);
    // Reset to attempt 0 after the first open: 1 s after the drop, then 2 s after the failed connect.
    expect(sleeps).toEqual([1000, 2000]);
  });

  it("refreshes the token on 401 and reconnects at once", async () => {
    setAccessToken("old");
    const stream = streamResponse();
    const seen: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init: RequestInit) => {
        seen.push(`${url} ${new Headers(init.headers).get("Authorization") ?? ""}`.trim());
        if (url === "/api/auth/refresh") return json(200, { access_token: "new", token_type: "Bearer", expires_in: 900 });
        return new Headers(init.headers).get("Authorization") === "Bearer new" ? stream.response : apiError(401, "unauthorized", "Expired.");
      }),
    );
    const controller = new AbortController();
    const sleep = vi.fn(async () => {});
    const opened = vi.fn();
    const done = runEventStream({ signal: controller.signal, onEvent: () => {}, onOpen: opened, sleep });
    await vi.waitFor(() => expect(opened).toHaveBeenCalled());
    controller.abort();
    await done;
    expect(seen).toEqual(["/api/events Bearer old", "/api/auth/refresh", "/api/events Bearer new"]);
    expect(sleep).not.toHaveBeenCalled();
    expect(getAccessToken()).toBe("new");
  });

  it("ends the session and stops when the refresh fails", async () => {
    setAccessToken("old");
    const expired = vi.fn();
    onSessionExpired(expired);
    const fetchSpy = vi.fn(async (url: string) =>
      url === "/api/auth/refresh" ? apiError(401, "invalid_refresh_token", "Log in.") : apiError(401, "unauthorized", "Expired."),
    );
    vi.stubGlobal("fetch", fetchSpy);
    const states: string[] = [];
    await runEventStream({ signal: new AbortController().signal, onEvent: () => {}, onStateChange: (s) => states.push(s) });
    expect(expired).toHaveBeenCalledTimes(1);
    expect(fetchSpy).toHaveBeenCalledTimes(2);
    expect(states.at(-1)).toBe("stopped");
    expect(getAccessToken()).toBeNull();
  });
});
