/**
 * Thin fetch wrapper for the Beacon Spear API.
 *
 * - Relative URLs only (`/api/...`): the dashboard is served by the host, and
 *   `npm run dev` proxies /api to the local server.
 * - The access token lives in memory only (never localStorage); the refresh
 *   token is an HttpOnly cookie the browser sends to /api/auth/*.
 * - A 401 on an authenticated call triggers exactly one refresh (shared by
 *   every call that fails at the same moment) and one retry.
 * - Every error becomes an {@link ApiError} carrying the API's
 *   `{"error": {code, message, field}}` body.
 */

export interface ApiErrorBody {
  code: string;
  message: string;
  field?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  /** Seconds from a `Retry-After` header (429). */
  readonly retryAfter?: number;

  constructor(status: number, body: ApiErrorBody, retryAfter?: number) {
    super(body.message);
    this.name = "ApiError";
    this.status = status;
    this.code = body.code;
    this.field = body.field ?? undefined;
    this.retryAfter = retryAfter;
  }
}

export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
}

type SessionListener = () => void;

let accessToken: string | null = null;
let refreshInFlight: Promise<boolean> | null = null;
const expiredListeners = new Set<SessionListener>();

export function getAccessToken(): string | null {
  return accessToken;
}

export function setAccessToken(token: string | null): void {
  accessToken = token;
}

/** Called when a refresh fails after a 401: the session is gone. */
export function onSessionExpired(listener: SessionListener): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

/** Tell the app the session is gone (a refresh failed outside {@link api}, e.g. the event stream). */
export function expireSession(): void {
  accessToken = null;
  for (const l of [...expiredListeners]) l();
}

/** Test helper: forget the token and any pending refresh. */
export function resetClientState(): void {
  accessToken = null;
  refreshInFlight = null;
  expiredListeners.clear();
}

function retryAfterSeconds(res: Response): number | undefined {
  const raw = res.headers.get("Retry-After");
  if (!raw) return undefined;
  const secs = Number(raw);
  if (Number.isFinite(secs)) return Math.max(0, Math.ceil(secs));
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

async function toApiError(res: Response): Promise<ApiError> {
  let body: ApiErrorBody | undefined;
  try {
    const parsed: unknown = await res.json();
    const err = (parsed as { error?: ApiErrorBody } | null)?.error;
    if (err && typeof err.code === "string" && typeof err.message === "string") body = err;
  } catch {
    // Not JSON (a proxy error page, say): fall through to a generic message.
  }
  body ??= {
    code: res.status === 429 ? "rate_limited" : res.status === 413 ? "payload_too_large" : `http_${res.status}`,
    message:
      res.status >= 500
        ? "The server had a problem. Try again in a moment."
        : res.status === 413
          ? "The upload is larger than the server accepts."
          : `Request failed (HTTP ${res.status}).`,
  };
  return new ApiError(res.status, body, retryAfterSeconds(res));
}

async function doRefresh(): Promise<boolean> {
  const res = await fetch("/api/auth/refresh", {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!res.ok) {
    accessToken = null;
    return false;
  }
  const data = (await res.json()) as TokenResponse;
  accessToken = data.access_token;
  return true;
}

/**
 * Exchange the refresh cookie for a new access token. Concurrent callers share
 * one request: refresh tokens rotate on every use and presenting a rotated one
 * revokes the whole family, so two parallel refreshes would log the user out.
 * Across tabs the Web Locks API (where available) serialises the same way.
 */
export function refreshSession(): Promise<boolean> {
  if (!refreshInFlight) {
    const run = () => doRefresh().catch(() => false);
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    const p: Promise<boolean> = locks
      ? locks.request("beacon-spear-refresh", run).then((ok) => ok)
      : run();
    const shared = p.finally(() => {
      refreshInFlight = null;
    });
    refreshInFlight = shared;
    return shared;
  }
  return refreshInFlight;
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** JSON-serialised when present; a `FormData` is sent as it is (multipart, the browser sets the boundary). */
  body?: unknown;
  /** Query parameters; undefined, null and "" values are left out. */
  query?: Record<string, string | number | boolean | undefined | null>;
  /** Send the bearer token and refresh-and-retry on 401 (default true). */
  auth?: boolean;
  signal?: AbortSignal;
}

export function buildUrl(path: string, query?: RequestOptions["query"]): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function send(path: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const multipart = typeof FormData !== "undefined" && opts.body instanceof FormData;
  if (opts.body !== undefined && !multipart) headers["Content-Type"] = "application/json";
  if (opts.auth !== false && accessToken) headers.Authorization = `Bearer ${accessToken}`;
  return fetch(buildUrl(path, opts.query), {
    method: opts.method ?? (opts.body !== undefined ? "POST" : "GET"),
    headers,
    body: opts.body === undefined ? undefined : multipart ? (opts.body as FormData) : JSON.stringify(opts.body),
    credentials: "same-origin",
    signal: opts.signal,
  });
}

/** Call the API; resolves with the parsed JSON (undefined for 202/204 without a body). */
export async function api<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
  let res = await send(path, opts);
  if (res.status === 401 && opts.auth !== false) {
    if (await refreshSession()) {
      res = await send(path, opts);
    } else {
      for (const l of [...expiredListeners]) l();
    }
  }
  if (!res.ok) throw await toApiError(res);
  if (res.status === 204 || res.status === 205) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Like {@link errorMessage}, naming the field when the API named one ("message.priority: must be …"). */
export function errorWithField(err: unknown): string {
  return err instanceof ApiError && err.field && err.status === 422 ? `${err.field}: ${err.message}` : errorMessage(err);
}

/** A human sentence for any thrown value, for form-level and page-level errors. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429) {
      return err.retryAfter !== undefined
        ? `Too many attempts. Try again in ${err.retryAfter} s.`
        : "Too many attempts. Try again in a moment.";
    }
    return err.message;
  }
  if (err instanceof TypeError) return "Could not reach the server. Check your connection.";
  if (err instanceof Error) return err.message;
  return "Something went wrong.";
}
