import { vi } from "vitest";

export type Handler = (req: { url: string; method: string; headers: Headers; body: unknown }) => Response | Promise<Response>;

export function json(status: number, body?: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function apiError(status: number, code: string, message: string, field?: string, headers?: Record<string, string>) {
  return json(status, { error: { code, message, ...(field ? { field } : {}) } }, headers);
}

/** Replace global fetch with a handler; returns the spy (calls are inspectable). */
export function mockFetch(handler: Handler) {
  const spy = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    // JSON bodies parsed; a multipart upload (FormData) handed over as it is.
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : init?.body instanceof FormData ? init.body : undefined;
    return handler({ url, method: init?.method ?? "GET", headers: new Headers(init?.headers), body });
  });
  vi.stubGlobal("fetch", spy);
  return spy;
}
