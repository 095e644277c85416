/**
 * Live updates from `GET /api/events` (Server-Sent Events).
 *
 * `EventSource` cannot send an `Authorization` header, so the stream is read
 * with `fetch()` and parsed here. The access token comes from the in-memory
 * session; a 401 goes through the shared refresh (refresh tokens rotate, so
 * never refresh on our own), network errors reconnect with capped exponential
 * backoff plus jitter, and aborting the signal (log-out, unmount) stops it.
 */
import { expireSession, getAccessToken, refreshSession } from "./client";

export interface SseFrame {
  /** `message` when the frame names no event (SSE default). */
  event: string;
  data: string;
  id?: string;
  /** Reconnection time the server asked for, in ms. */
  retry?: number;
}

/**
 * Incremental SSE parser (WHATWG "event stream interpretation"): feed it text
 * chunks split anywhere, get back the complete frames. Handles CRLF/CR/LF line
 * ends, a leading BOM, comment lines (keep-alives), multi-line `data`, and
 * `field` lines without a colon.
 */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id: string | undefined;
  private retry: number | undefined;
  private started = false;
  /** A chunk ended in "\r": a following "\n" belongs to the same line end. */
  private pendingCr = false;

  push(chunk: string): SseFrame[] {
    if (!this.started) {
      if (chunk.length === 0) return [];
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.pendingCr && chunk.startsWith("\n")) chunk = chunk.slice(1);
    this.pendingCr = false;
    this.buffer += chunk;
    const frames: SseFrame[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== "\n" && c !== "\r") continue;
      const line = this.buffer.slice(start, i);
      if (c === "\r") {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[i + 1] === "\n") i++;
      }
      start = i + 1;
      const frame = this.line(line);
      if (frame) frames.push(frame);
    }
    this.buffer = this.buffer.slice(start);
    return frames;
  }

  private line(line: string): SseFrame | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return undefined; // comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        break;
      case "event":
        this.event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
    }
    return undefined;
  }

  private dispatch(): SseFrame | undefined {
    const hasData = this.data.length > 0;
    const frame: SseFrame = { event: this.event || "message", data: this.data.join("\n") };
    if (this.id !== undefined) frame.id = this.id;
    if (this.retry !== undefined) frame.retry = this.retry;
    this.data = [];
    this.event = "";
    this.retry = undefined;
    // Per spec a frame without data lines is not dispatched.
    return hasData ? frame : undefined;
  }
}

/** `message` frames: a message was ingested. */
export interface MessageEvent {
  id: string;
  endpoint_id: string;
  received_at: string;
}

/** `delivery` frames: a delivery changed status. */
export interface DeliveryEvent {
  id: string;
  message_id: string;
  status: string;
}

export type LiveEvent =
  | { type: "message"; data: MessageEvent }
  | { type: "delivery"; data: DeliveryEvent }
  /** The server dropped events for this connection (it lagged): refetch everything. */
  | { type: "resync" };

/** A parsed frame as a typed event; unknown events and malformed data give undefined. */
export function toLiveEvent(frame: SseFrame): LiveEvent | undefined {
  if (frame.event === "resync") return { type: "resync" };
  if (frame.event !== "message" && frame.event !== "delivery") return undefined;
  let data: unknown;
  try {
    data = JSON.parse(frame.data);
  } catch {
    return undefined;
  }
  if (!data || typeof data !== "object" || typeof (data as { id?: unknown }).id !== "string") return undefined;
  if (frame.event === "delivery" && typeof (data as { message_id?: unknown }).message_id !== "string") return undefined;
  return { type: frame.event, data } as LiveEvent;
}

export type ConnectionState = "connecting" | "open" | "reconnecting" | "stopped";

export interface EventStreamOptions {
  signal: AbortSignal;
  onEvent(event: LiveEvent): void;
  /** The stream is open (`reconnected` after an earlier connection was lost). */
  onOpen?(reconnected: boolean): void;
  onStateChange?(state: ConnectionState): void;
  /** Injected in tests. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  random?(): number;
  url?: string;
}

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 30_000;

/** Delay before reconnect attempt `n` (0-based): exponential, capped, with ±20 % jitter. */
export function backoffDelay(n: number, random: () => number = Math.random, serverRetry?: number): number {
  const base = Math.min(BACKOFF_MAX_MS, Math.max(serverRetry ?? 0, BACKOFF_BASE_MS * 2 ** Math.min(n, 10)));
  return Math.round(base * (0.8 + 0.4 * random()));
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Keep a connection to the event stream until `signal` aborts or the session
 * ends. Resolves when it stops.
 */
export async function runEventStream(opts: EventStreamOptions): Promise<void> {
  const { signal } = opts;
  const sleep = opts.sleep ?? defaultSleep;
  const random = opts.random ?? Math.random;
  const url = opts.url ?? "/api/events";
  let failures = 0;
  let everOpened = false;
  let serverRetry: number | undefined;
  const setState = (s: ConnectionState) => opts.onStateChange?.(s);

  setState("connecting");
  while (!signal.aborted) {
    let token = getAccessToken();
    if (!token) {
      if (!(await refreshSession())) {
        if (!signal.aborted) expireSession();
        break;
      }
      token = getAccessToken();
    }
    let res: Response | undefined;
    try {
      res = await fetch(url, {
        headers: { Accept: "text/event-stream", Authorization: `Bearer ${token}` },
        credentials: "same-origin",
        cache: "no-store",
        signal,
      });
    } catch {
      res = undefined; // network error (or abort, checked by the loop)
    }
    if (signal.aborted) break;

    if (res?.status === 401) {
      void res.body?.cancel().catch(() => undefined);
      if (await refreshSession()) continue; // new token: reconnect at once
      if (!signal.aborted) expireSession();
      break;
    }

    if (res?.ok && res.body) {
      setState("open");
      opts.onOpen?.(everOpened);
      everOpened = true;
      failures = 0;
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      // Stop reading at once on abort, even where the body is not tied to the fetch's signal.
      const stop = () => void reader.cancel().catch(() => undefined);
      signal.addEventListener("abort", stop, { once: true });
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          for (const frame of parser.push(decoder.decode(value, { stream: true }))) {
            if (frame.retry !== undefined) serverRetry = frame.retry;
            const ev = toLiveEvent(frame);
            if (ev) opts.onEvent(ev);
          }
        }
      } catch {
        // connection dropped mid-stream
      } finally {
        signal.removeEventListener("abort", stop);
        reader.releaseLock();
      }
    } else {
      void res?.body?.cancel().catch(() => undefined);
    }
    if (signal.aborted) break;
    setState("reconnecting");
    await sleep(backoffDelay(failures++, random, serverRetry), signal);
  }
  setState("stopped");
}
