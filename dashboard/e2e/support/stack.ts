/**
 * What the end-to-end tests run against, all on 127.0.0.1: a real `beacon
 * serve` (SQLite in a temp BEACON_DATA_DIR), the SMTP server it mails through,
 * and a Bark-compatible receiver. The receiver also answers the tests'
 * questions (`/__control/*`: the mails and pushes received so far), because
 * Vitest runs this setup and the test files in different processes.
 *
 * Everything stops by itself: the teardown stops the server (SIGTERM, then
 * SIGKILL), an exit hook kills it if the runner exits first, the kernel sends
 * it SIGTERM if the runner is killed outright (setpriv --pdeathsig), test
 * workers end themselves when the runner is gone (worker-guard.ts), and a
 * watchdog ends the whole run after E2E_MAX_SECONDS (default 900).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  receivedAt: string;
}

export interface ReceivedPush {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body (undefined when it was not JSON). */
  json: unknown;
  raw: string;
  receivedAt: string;
}

export interface StackInfo {
  /** The dashboard and API, e.g. http://127.0.0.1:40123 */
  baseUrl: string;
  /** The Bark-compatible receiver; a channel's "Server base URL". */
  barkUrl: string;
  /** `${barkUrl}/__control`: GET mail, GET pushes, POST refuse ({device_key, refuse}: answer that key with Bark's 400, or stop). */
  controlUrl: string;
  /** Where screenshots go (created empty for each run). */
  screenshotsDir: string;
  /** The server's log of this run. */
  serverLog: string;
  /** How to run the server's CLI against the same data (`beacon user create … --admin`): binary, environment, cwd. */
  cli: { bin: string; env: Record<string, string>; cwd: string };
}

/** A device key the receiver refuses the way Bark does for an unknown device (permanent failure). */
export const FAILING_DEVICE_KEY = "e2e-unknown-device";

const DASHBOARD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const REPO_ROOT = resolve(DASHBOARD_DIR, "..");

function fail(message: string): never {
  throw new Error(`\n\ne2e setup: ${message}\n`);
}

/** BEACON_BIN, or target/debug/beacon (scripts/test.sh builds it with `cargo test --workspace`). */
export function beaconBinary(): string {
  const bin = resolve(REPO_ROOT, process.env.BEACON_BIN || join(process.env.CARGO_TARGET_DIR || "target", "debug", "beacon"));
  if (!existsSync(bin)) {
    fail(
      `no server binary at ${bin}.\n` +
        "Build it first (`cargo build --bin beacon`, or `cargo test --workspace` as scripts/test.sh does),\n" +
        "or point BEACON_BIN at one (e.g. BEACON_BIN=target/release/beacon).",
    );
  }
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    fail(`${bin} is not executable.`);
  }
  return bin;
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createNetServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => res(port));
    });
  });
}

function listen(server: Server | SMTPServer, port = 0): Promise<number> {
  return new Promise((res, rej) => {
    server.once("error", rej);
    server.listen(port, "127.0.0.1", () => {
      const addr = (server as Server).address?.() ?? (server as unknown as { server: Server }).server.address();
      res((addr as AddressInfo).port);
    });
  });
}

const SETPRIV = "/usr/bin/setpriv";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- SMTP

async function startSmtp(mails: ReceivedMail[]): Promise<{ port: number; close(): Promise<void> }> {
  const server = new SMTPServer({
    // Plain SMTP on loopback: the server runs with EMAIL_USE_TLS=false and no credentials.
    secure: false,
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    banner: "beacon-e2e",
    size: 1024 * 1024,
    logger: false,
    onData(stream, session, done) {
      simpleParser(stream)
        .then((parsed) => {
          mails.push({
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            subject: parsed.subject ?? "",
            text: parsed.text ?? "",
            receivedAt: new Date().toISOString(),
          });
          done();
        })
        .catch((err: Error) => done(err));
    },
  });
  server.on("error", (err) => console.error("e2e SMTP server error:", err));
  const port = await listen(server);
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

// ------------------------------------------------- Bark receiver + control

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

async function startReceiver(mails: ReceivedMail[], pushes: ReceivedPush[]): Promise<{ port: number; close(): Promise<void> }> {
  // Device keys a test told the receiver to refuse for now (besides FAILING_DEVICE_KEY, always refused).
  const refused = new Set<string>();
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (req.method === "GET" && url.pathname === "/__control/mail") return sendJson(res, 200, mails);
      if (req.method === "GET" && url.pathname === "/__control/pushes") return sendJson(res, 200, pushes);
      if (req.method === "POST" && url.pathname === "/__control/refuse") {
        const { device_key, refuse } = JSON.parse(await readBody(req)) as { device_key: string; refuse: boolean };
        if (refuse) refused.add(device_key);
        else refused.delete(device_key);
        return sendJson(res, 200, { refused: [...refused] });
      }
      if (req.method === "POST" && url.pathname === "/push") {
        const raw = await readBody(req);
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          json = undefined;
        }
        pushes.push({ method: req.method, path: url.pathname, headers: req.headers, json, raw, receivedAt: new Date().toISOString() });
        const deviceKey = (json as { device_key?: unknown } | undefined)?.device_key;
        if (deviceKey === FAILING_DEVICE_KEY || (typeof deviceKey === "string" && refused.has(deviceKey))) {
          // What api.day.app answers for an unknown device: a permanent failure.
          return sendJson(res, 400, { code: 400, message: "failed to get device token: device not registered", timestamp: Math.floor(Date.now() / 1000) });
        }
        return sendJson(res, 200, { code: 200, message: "success", timestamp: Math.floor(Date.now() / 1000) });
      }
      sendJson(res, 404, { code: 404, message: "not found" });
    } catch (err) {
      sendJson(res, 500, { code: 500, message: String(err) });
    }
  });
  const port = await listen(server);
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// ---------------------------------------------------------------- beacon

interface Beacon {
  child: ChildProcess;
  port: number;
  /** The server's environment (the CLI needs the same one to reach its data). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function startBeacon(bin: string, dataDir: string, smtpPort: number, logFile: string): Promise<Beacon> {
  const log = createWriteStream(logFile, { flags: "a" });
  let lastError = "";
  // The port is free when picked but could be taken before the server binds it: try a few.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      // A clean environment: nothing from the caller's shell (DATABASE_URL, EMAIL_*, …) leaks in.
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: dataDir,
      LANG: "C.UTF-8",
      BEACON_LISTEN: `127.0.0.1:${port}`,
      APP_BASE_URL: base,
      BEACON_DATA_DIR: dataDir,
      JWT_REFRESH_COOKIE_SECURE: "false",
      BEACON_OUTBOUND_ALLOWLIST: "127.0.0.1",
      EMAIL_HOST: "127.0.0.1",
      EMAIL_PORT: String(smtpPort),
      EMAIL_USE_TLS: "false",
      EMAIL_USE_SSL: "false",
      EMAIL_TIMEOUT_SECONDS: "5",
      DEFAULT_FROM_EMAIL: "Beacon Spear <noreply@beacon.test>",
      INGEST_RATE_LIMIT_PER_MINUTE: "0",
      // Every test signs up and logs in from 127.0.0.1; the default limits (30/min) are too tight.
      AUTH_RATE_LIMIT_PER_IP_PER_MINUTE: "10000",
      AUTH_RATE_LIMIT_PER_EMAIL_PER_MINUTE: "10000",
      DELIVERY_BACKOFF_BASE_SECONDS: "1",
      WORKER_POLL_INTERVAL_MS: "200",
      BEACON_LOG_FORMAT: "text",
      RUST_LOG: process.env.E2E_RUST_LOG ?? "info",
    };
    log.write(`\n===== beacon serve on ${base} (attempt ${attempt}) =====\n`);
    // cwd = the data dir, so no stray .env file of the caller is read.
    // With util-linux's setpriv the server also gets SIGTERM if this process dies without
    // cleaning up (SIGKILL); setpriv execs the server, so the pid stays the same.
    const [cmd, args] = existsSync(SETPRIV) ? [SETPRIV, ["--pdeathsig", "TERM", "--", bin, "serve"]] : [bin, ["serve"]];
    const child = spawn(cmd, args, { cwd: dataDir, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    let exited: string | null = null;
    child.on("exit", (code, signal) => {
      exited = `exited with ${signal ?? code}`;
    });
    child.on("error", (err) => {
      exited = `could not start: ${err.message}`;
    });

    const deadline = Date.now() + 90_000;
    let ready = false;
    while (Date.now() < deadline && !exited) {
      try {
        const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) {
          ready = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    if (ready) {
      const stop = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise<void>((r) => child.once("exit", () => r()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await gone;
        clearTimeout(timer);
        log.end();
      };
      return { child, port, env, stop };
    }
    if (!exited) {
      child.kill("SIGKILL");
      fail(`beacon serve did not answer ${base}/healthz within 90 s. Log (${logFile}):\n${tail(logFile)}`);
    }
    lastError = `beacon serve ${exited}`;
    if (!/address (already )?in use/i.test(tail(logFile, 10))) break;
  }
  fail(`${lastError}. Log (${logFile}):\n${tail(logFile)}`);
}

/** The server must serve the built dashboard at / (index.html with its hashed script). */
async function checkDashboard(baseUrl: string) {
  const res = await fetch(`${baseUrl}/`, { signal: AbortSignal.timeout(5000) });
  const html = await res.text();
  if (!res.ok || !/<script[^>]+src="\/assets\/[^"]+\.js"/.test(html)) {
    fail(
      `${baseUrl}/ does not serve the built dashboard (HTTP ${res.status}).\n` +
        "Build it with scripts/build-dashboard.sh. A debug server reads dashboard/dist at run time;\n" +
        "a release server embeds it at compile time (rebuild the server after building the dashboard).",
    );
  }
}

// ---------------------------------------------------------------- all of it

export async function startStack(): Promise<{ info: StackInfo; stop(): Promise<void> }> {
  const bin = beaconBinary();
  const screenshotsDir = resolve(DASHBOARD_DIR, "e2e", "screenshots");
  const logsDir = resolve(DASHBOARD_DIR, "e2e", "logs");
  rmSync(screenshotsDir, { recursive: true, force: true });
  mkdirSync(screenshotsDir, { recursive: true });
  mkdirSync(logsDir, { recursive: true });
  const serverLog = join(logsDir, "beacon.log");
  rmSync(serverLog, { force: true });
  const dataDir = mkdtempSync(join(tmpdir(), "beacon-e2e-"));

  const mails: ReceivedMail[] = [];
  const pushes: ReceivedPush[] = [];
  const stops: (() => Promise<void>)[] = [];
  let beacon: Beacon | undefined;
  const killNow = () => {
    beacon?.child.kill("SIGKILL");
  };
  process.on("exit", killNow);
  const maxSeconds = Number(process.env.E2E_MAX_SECONDS ?? 900);
  const watchdog = setTimeout(() => {
    console.error(`\ne2e: the run took longer than ${maxSeconds} s (E2E_MAX_SECONDS); stopping the server.`);
    killNow();
    process.exit(1);
  }, maxSeconds * 1000);
  watchdog.unref();

  const stop = async () => {
    clearTimeout(watchdog);
    for (const s of stops.reverse()) await s().catch((err) => console.error("e2e teardown:", err));
    process.off("exit", killNow);
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const smtp = await startSmtp(mails);
    stops.push(smtp.close);
    const receiver = await startReceiver(mails, pushes);
    stops.push(receiver.close);
    beacon = await startBeacon(bin, dataDir, smtp.port, serverLog);
    stops.push(beacon.stop);
    const baseUrl = `http://127.0.0.1:${beacon.port}`;
    await checkDashboard(baseUrl);
    const barkUrl = `http://127.0.0.1:${receiver.port}`;
    console.log(`e2e: ${bin} serving ${baseUrl} (log: ${serverLog}); SMTP 127.0.0.1:${smtp.port}; Bark receiver ${barkUrl}`);
    const cli = { bin, env: beacon.env, cwd: dataDir };
    return { info: { baseUrl, barkUrl, controlUrl: `${barkUrl}/__control`, screenshotsDir, serverLog, cli }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
