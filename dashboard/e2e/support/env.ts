/**
 * Test-side helpers: the running stack (from the global setup), the mails and
 * Bark pushes it received, polling with deadlines, and a small API client for
 * seeding data the UI test is not about.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { expect, inject } from "vitest";
import type { ReceivedMail, ReceivedPush, StackInfo } from "./stack";

export function stack(): StackInfo {
  return inject("stack");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `probe` until it returns a value other than undefined/false, or fail after `timeout` ms saying what was awaited. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeout = 15_000): Promise<T> {
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ""}`);
    }
    await sleep(150);
  }
}

/** `expect.poll` with a deadline long enough for a debug server (default 15 s instead of 1 s). */
export function eventually<T>(fn: () => T | Promise<T>, options: { timeout?: number; message?: string } = {}) {
  return expect.poll(fn, { timeout: 15_000, interval: 100, ...options });
}

async function control<T>(path: string): Promise<T> {
  const res = await fetch(`${stack().controlUrl}/${path}`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export const mails = () => control<ReceivedMail[]>("mail");
export const pushes = () => control<ReceivedPush[]>("pushes");

/** Make the Bark receiver answer pushes to `deviceKey` with Bark's permanent 400 (`refuse`), or accept them again. */
export async function refuseDevice(deviceKey: string, refuse: boolean): Promise<void> {
  const res = await fetch(`${stack().controlUrl}/refuse`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ device_key: deviceKey, refuse }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`control refuse: HTTP ${res.status}`);
}

/** The newest mail to `to` whose subject contains `subject` (waits for it). */
export async function waitForMail(to: string, subject: string, after = 0): Promise<ReceivedMail> {
  return waitFor(`a mail to ${to} with subject containing “${subject}” (received over SMTP)`, async () => {
    const found = (await mails()).filter((m) => m.to.includes(to.toLowerCase()) && m.subject.includes(subject));
    return found.length > after ? found[found.length - 1] : undefined;
  });
}

/** The password reset link in a mail, exactly as the server wrote it. */
export function resetLink(mail: ReceivedMail): string {
  const m = /https?:\/\/\S+\/reset-password\?token=[A-Za-z0-9_\-.~%]+/.exec(mail.text);
  if (!m) throw new Error(`no reset link in the mail “${mail.subject}”:\n${mail.text}`);
  return m[0];
}

/** The verification link in a mail, exactly as the server wrote it. */
export function verificationLink(mail: ReceivedMail): string {
  const m = /https?:\/\/\S+\/verify-email\?token=[A-Za-z0-9_\-.~%]+/.exec(mail.text);
  if (!m) throw new Error(`no verification link in the mail “${mail.subject}”:\n${mail.text}`);
  return m[0];
}

export function uniqueEmail(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}@example.test`;
}

export const PASSWORD = "correct horse battery staple";

// ---------------------------------------------------------------- API client (seeding only)

export class ApiFailure extends Error {}

async function call<T>(method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`${stack().baseUrl}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (!res.ok) throw new ApiFailure(`${method} ${path} → HTTP ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** An authenticated API call (for seeding and for checking what the UI saved). */
export function apiCall<T>(user: { token: string }, method: string, path: string, body?: unknown): Promise<T> {
  return call<T>(method, path, body, user.token);
}

/** Log in through the API: the access token, or the HTTP status when refused. */
export async function apiLogin(email: string, password: string): Promise<{ status: number; token?: string }> {
  const res = await fetch(`${stack().baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string };
  return { status: res.status, token: body.access_token };
}

export interface Seeded {
  email: string;
  password: string;
  token: string;
}

/** Sign up through the API; verified (by following the mailed link's token) unless `verified: false`. */
export async function seedUser(prefix: string, { verified = true } = {}): Promise<Seeded> {
  const email = uniqueEmail(prefix);
  await call("POST", "/api/auth/signup", { email, password: PASSWORD });
  if (verified) {
    const link = verificationLink(await waitForMail(email, "Confirm your e-mail"));
    await call("POST", "/api/auth/verify-email", { token: new URL(link).searchParams.get("token") });
  }
  const { access_token } = await call<{ access_token: string }>("POST", "/api/auth/login", { email, password: PASSWORD });
  return { email, password: PASSWORD, token: access_token };
}

/** Run the server's CLI (`beacon <args>`) against the e2e server's data; its stdout. */
export function beaconCli(args: string[], stdin?: string): Promise<string> {
  const { bin, env, cwd } = stack().cli;
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { env, cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`beacon ${args.join(" ")} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin?.end(stdin ?? "");
  });
}

/** An operator (may install and remove plugins), made the way an admin would: `beacon user create --verified --admin`. */
export async function seedOperator(prefix: string): Promise<Seeded> {
  const email = uniqueEmail(prefix);
  await beaconCli(["user", "create", "--email", email, "--password-stdin", "--verified", "--admin"], `${PASSWORD}\n`);
  const { access_token } = await call<{ access_token: string }>("POST", "/api/auth/login", { email, password: PASSWORD });
  return { email, password: PASSWORD, token: access_token };
}

export interface SeededEndpoint {
  id: string;
  name: string;
  key: string;
  url: string;
}

export async function seedEndpoint(user: Seeded, name: string): Promise<SeededEndpoint> {
  const r = await call<{ endpoint: { id: string; name: string }; ingest_key: string; ingest_url: string }>(
    "POST",
    "/api/ingest-endpoints",
    { name },
    user.token,
  );
  return { id: r.endpoint.id, name: r.endpoint.name, key: r.ingest_key, url: r.ingest_url };
}

export async function seedBarkChannel(user: Seeded, name: string, deviceKey: string): Promise<{ id: string }> {
  return call("POST", "/api/channels", { name, plugin: "bark", config: { server_base_url: stack().barkUrl, device_key: deviceKey } }, user.token);
}

export async function seedRule(user: Seeded, body: Record<string, unknown>): Promise<{ id: string }> {
  return call("POST", "/api/rules", body, user.token);
}

/** POST a message to an ingest URL, as a user's script would. */
export async function ingest(endpoint: { url: string; key: string }, message: Record<string, unknown>): Promise<string> {
  const res = await fetch(endpoint.url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Beacon-Ingest-Key": endpoint.key },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  if (res.status !== 201) throw new ApiFailure(`ingest → HTTP ${res.status}: ${text}`);
  return (JSON.parse(text) as { message_id: string }).message_id;
}

/** POST a message to an ingest URL and return the HTTP status, whatever it is. */
export async function ingestStatus(endpoint: { url: string; key: string }, message: Record<string, unknown>): Promise<number> {
  const res = await fetch(endpoint.url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Beacon-Ingest-Key": endpoint.key },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(15_000),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Ingest `count` messages, `parallel` at a time; their ids in the order sent. */
export async function ingestMany(
  endpoint: { url: string; key: string },
  count: number,
  message: (i: number) => Record<string, unknown>,
  parallel = 8,
): Promise<string[]> {
  const ids: string[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        const i = next++;
        ids[i] = await ingest(endpoint, message(i));
      }
    }),
  );
  return ids;
}

export async function deliveriesOf(user: Seeded, messageId: string): Promise<{ status: string }[]> {
  const m = await call<{ deliveries: { status: string }[] }>("GET", `/api/messages/${messageId}`, undefined, user.token);
  return m.deliveries;
}
