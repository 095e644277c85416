import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiError, json, mockFetch, type Handler } from "../test/http";
import { renderApp } from "../test/render";

afterEach(() => vi.unstubAllGlobals());

const TOKENS = { access_token: "tok", token_type: "Bearer", expires_in: 900 };
const ME = { id: "u1", email: "ada@example.com", email_verified: true };

/** No session cookie: refresh answers 401; everything else goes to `rest`. */
function anonymous(rest: Handler): Handler {
  return (req) => (req.url === "/api/auth/refresh" ? apiError(401, "invalid_refresh_token", "No session.") : rest(req));
}

/** A restored session; `rest` sees every call except refresh and me. */
function signedIn(rest: Handler, me = ME): Handler {
  return (req) => {
    if (req.url === "/api/auth/refresh") return json(200, TOKENS);
    if (req.url === "/api/auth/me") return json(200, me);
    return rest(req);
  };
}

/** The error paragraph that the input labelled `label` points at. */
function errorFor(label: string | RegExp): string | null {
  const input = screen.getByLabelText(label);
  const ids = (input.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
  const err = ids.map((id) => document.getElementById(id)).find((el) => el?.classList.contains("field-error"));
  return err?.textContent ?? null;
}

describe("sign-up form", () => {
  it("validates before calling the API", async () => {
    const spy = mockFetch(anonymous(() => json(500, {})));
    const { user } = renderApp("/signup");
    await user.click(await screen.findByRole("button", { name: "Sign up" }));
    expect(errorFor("E-mail")).toBe("Enter your e-mail address.");
    expect(errorFor("Password")).toBe("Use at least 8 characters.");

    await user.type(screen.getByLabelText("E-mail"), "not-an-address");
    await user.type(screen.getByLabelText("Password"), "longenough");
    await user.type(screen.getByLabelText("Repeat password"), "different1");
    await user.click(screen.getByRole("button", { name: "Sign up" }));
    expect(errorFor("E-mail")).toBe("Enter a valid e-mail address.");
    expect(errorFor("Password")).toBeNull();
    expect(errorFor("Repeat password")).toBe("The passwords do not match.");
    expect(spy.mock.calls.filter((c) => c[0] === "/api/auth/signup")).toHaveLength(0);
  });

  it("shows the API's field error next to the named input", async () => {
    mockFetch(
      anonymous(({ url }) =>
        url === "/api/auth/signup" ? apiError(409, "email_taken", "An account with this e-mail already exists.", "email") : json(404, {}),
      ),
    );
    const { user } = renderApp("/signup");
    await user.type(await screen.findByLabelText("E-mail"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "correct horse");
    await user.type(screen.getByLabelText("Repeat password"), "correct horse");
    await user.click(screen.getByRole("button", { name: "Sign up" }));
    await waitFor(() => expect(errorFor("E-mail")).toBe("An account with this e-mail already exists."));
    expect(screen.getByLabelText("E-mail")).toHaveAttribute("aria-invalid", "true");
  });

  it("shows an error without a field as a form-level error", async () => {
    mockFetch(anonymous(() => apiError(429, "rate_limited", "Too many requests.", undefined, { "Retry-After": "30" })));
    const { user } = renderApp("/signup");
    await user.type(await screen.findByLabelText("E-mail"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "correct horse");
    await user.type(screen.getByLabelText("Repeat password"), "correct horse");
    await user.click(screen.getByRole("button", { name: "Sign up" }));
    expect(await screen.findByText("Too many attempts. Try again in 30 s.")).toHaveClass("form-error");
  });
});

describe("log-in form", () => {
  it("reports wrong credentials and does not try a refresh", async () => {
    const spy = mockFetch(
      anonymous(({ url }) => (url === "/api/auth/login" ? apiError(401, "invalid_credentials", "Wrong e-mail or password.") : json(404, {}))),
    );
    const { user } = renderApp("/login");
    await user.type(await screen.findByLabelText("E-mail"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "nope");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByText("Wrong e-mail or password.")).toHaveClass("form-error");
    // One refresh at start-up (restore), none after the failed login.
    expect(spy.mock.calls.filter((c) => c[0] === "/api/auth/refresh")).toHaveLength(1);
  });

  it("logs in and lands on home", async () => {
    let loggedIn = false;
    mockFetch((req) => {
      if (req.url === "/api/auth/refresh") return apiError(401, "invalid_refresh_token", "No session.");
      if (req.url === "/api/auth/login") {
        loggedIn = req.body !== undefined;
        return json(200, TOKENS);
      }
      if (req.url === "/api/auth/me") return loggedIn && req.headers.get("Authorization") === "Bearer tok" ? json(200, ME) : apiError(401, "unauthorized", "x");
      if (req.url.startsWith("/api/messages")) return json(200, { items: [], next_cursor: null });
      if (req.url.startsWith("/api/ingest-endpoints")) return json(200, { items: [] });
      return json(404, {});
    });
    const { user, router } = renderApp("/login");
    await user.type(await screen.findByLabelText("E-mail"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "correct horse");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("heading", { name: "Home" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/");
    expect(await screen.findByText("No messages yet — here is your curl")).toBeInTheDocument();
  });
});

describe("after sign-up and log-in", () => {
  /** A server where sign-up works and log-in then succeeds (unverified user). */
  function server(extra: Handler = () => json(404, {})): Handler {
    let loggedIn = false;
    return (req) => {
      if (req.url === "/api/auth/refresh") return apiError(401, "invalid_refresh_token", "No session.");
      if (req.url === "/api/auth/signup") return json(201, { ...ME, email_verified: false });
      if (req.url === "/api/auth/login") {
        loggedIn = true;
        return json(200, TOKENS);
      }
      if (req.url === "/api/auth/me") return loggedIn ? json(200, { ...ME, email_verified: false }) : apiError(401, "unauthorized", "x");
      if (req.url.startsWith("/api/messages")) return json(200, { items: [], next_cursor: null });
      return extra(req);
    };
  }

  it("sign-up signs in and says where the link went, instead of bouncing to home", async () => {
    const spy = mockFetch(server(({ url }) => (url === "/api/auth/resend-verification" ? new Response(null, { status: 202 }) : json(404, {}))));
    const { user, router } = renderApp("/signup");
    await user.type(await screen.findByLabelText("E-mail"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "correct horse");
    await user.type(screen.getByLabelText("Repeat password"), "correct horse");
    await user.click(screen.getByRole("button", { name: "Sign up" }));
    expect(await screen.findByRole("heading", { name: "Check your inbox" })).toBeInTheDocument();
    expect(screen.getByText("ada@example.com")).toBeInTheDocument();
    // Signed in by now: the link goes to the dashboard, and the page stays.
    expect(await screen.findByRole("link", { name: "Continue to the dashboard" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/signup");
    await user.click(screen.getByRole("button", { name: "Resend the e-mail" }));
    expect(await screen.findByText("Sent.")).toBeInTheDocument();
    const resend = spy.mock.calls.find((c) => c[0] === "/api/auth/resend-verification");
    expect(new Headers(resend?.[1]?.headers).get("Authorization")).toBe("Bearer tok");
  });

  it("sends a signed-in user away from /signup", async () => {
    mockFetch(signedIn(({ url }) => (url.startsWith("/api/messages") ? json(200, { items: [], next_cursor: null }) : json(200, { items: [] }))));
    const { router } = renderApp("/signup");
    await waitFor(() => expect(router.state.location.pathname).toBe("/"));
  });

  it("log-in returns to the page that asked for it", async () => {
    mockFetch(server(({ url }) => (url === "/api/rules" ? json(200, { items: [] }) : json(200, { items: [] }))));
    const { user, router } = renderApp("/rules?x=1");
    await waitFor(() => expect(router.state.location.pathname).toBe("/login"));
    await user.type(await screen.findByLabelText("E-mail"), "ada@example.com");
    await user.type(screen.getByLabelText("Password"), "correct horse");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("heading", { name: "Rules", level: 1 })).toBeInTheDocument();
    expect(router.state.location.pathname + router.state.location.search).toBe("/rules?x=1");
  });
});

describe("account forms", () => {
  it("puts wrong_password next to the current password", async () => {
    mockFetch(
      signedIn(({ url }) =>
        url === "/api/auth/change-password"
          ? apiError(403, "wrong_password", "The current password is not correct.", "current_password")
          : json(404, {}),
      ),
    );
    const { user } = renderApp("/account");
    const form = (await screen.findByRole("heading", { name: "Change password" })).closest("section")!;
    const f = within(form);
    await user.type(f.getByLabelText("Current password"), "wrong");
    await user.type(f.getByLabelText("New password"), "a-new-secret");
    await user.type(f.getByLabelText("Repeat new password"), "a-new-secret");
    await user.click(f.getByRole("button", { name: "Change password" }));
    await waitFor(() => expect(f.getByText("The current password is not correct.")).toHaveClass("field-error"));
    const input = f.getByLabelText("Current password");
    expect(input.getAttribute("aria-describedby")).toContain(f.getByText("The current password is not correct.").id);
  });

  it("sends change-email and confirms", async () => {
    const spy = mockFetch(signedIn(({ url }) => (url === "/api/auth/change-email" ? new Response(null, { status: 202 }) : json(404, {}))));
    const { user } = renderApp("/account");
    const f = within((await screen.findByRole("heading", { name: "Change e-mail" })).closest("section")!);
    await user.type(f.getByLabelText("New e-mail"), "new@example.com");
    await user.type(f.getByLabelText("Current password"), "pw");
    await user.click(f.getByRole("button", { name: "Change e-mail" }));
    expect(await f.findByRole("status")).toHaveTextContent("We sent a confirmation link to new@example.com");
    const call = spy.mock.calls.find((c) => c[0] === "/api/auth/change-email")!;
    expect(JSON.parse(call[1]!.body as string)).toEqual({ new_email: "new@example.com", password: "pw" });
    expect(new Headers(call[1]!.headers).get("Authorization")).toBe("Bearer tok");
  });
});

describe("forgot password", () => {
  it("mails a reset link signed out and says so in place", async () => {
    const spy = mockFetch(
      anonymous(({ url }) => (url === "/api/auth/forgot-password" ? new Response(null, { status: 202 }) : json(404, {}))),
    );
    const { user } = renderApp("/forgot-password");
    await user.type(await screen.findByLabelText("E-mail"), "ada@example.com");
    await user.click(screen.getByRole("button", { name: "Send reset link" }));
    expect(await screen.findByRole("status")).toHaveTextContent(
      "If an account exists for ada@example.com, we sent it a link to choose a new password. The link works for one hour.",
    );
    const calls = spy.mock.calls.filter((c) => c[0] === "/api/auth/forgot-password");
    expect(calls.map((c) => JSON.parse(String(c[1]?.body)))).toEqual([{ email: "ada@example.com" }]);
    expect(new Headers(calls[0][1]?.headers).has("Authorization")).toBe(false);
    expect(screen.getByRole("link", { name: "Back to log in" })).toBeInTheDocument();
  });
});

describe("verification", () => {
  it("shows the banner and disables create actions for unverified users", async () => {
    mockFetch(
      signedIn(
        ({ url }) => (url.startsWith("/api/messages") ? json(200, { items: [], next_cursor: null }) : json(200, { items: [] })),
        { ...ME, email_verified: false },
      ),
    );
    renderApp("/");
    expect(await screen.findByRole("region", { name: "E-mail verification" })).toHaveTextContent("Verify ada@example.com");
    expect(screen.getByRole("button", { name: "New endpoint" })).toBeDisabled();
  });

  it("posts the token from ?token= once", async () => {
    const spy = mockFetch(anonymous(({ url }) => (url === "/api/auth/verify-email" ? new Response(null, { status: 204 }) : json(404, {}))));
    renderApp("/verify-email?token=abc123");
    expect(await screen.findByText(/Your e-mail address is verified/)).toBeInTheDocument();
    const calls = spy.mock.calls.filter((c) => c[0] === "/api/auth/verify-email");
    expect(calls).toHaveLength(1);
    expect(JSON.parse(calls[0][1]!.body as string)).toEqual({ token: "abc123" });
  });

  it("explains an invalid token and, signed out, resends by address in place", async () => {
    let resend = new Response(null, { status: 202 });
    const spy = mockFetch(
      anonymous(({ url }) => (url === "/api/auth/resend-verification" ? resend : apiError(400, "invalid_token", "Invalid token.", "token"))),
    );
    const { user } = renderApp("/verify-email?token=bad");
    expect(await screen.findByText(/invalid, already used or expired/)).toBeInTheDocument();
    const form = await screen.findByRole("form", { name: "Send a new verification link" });
    await user.click(within(form).getByRole("button", { name: "Send a new link" }));
    expect(await within(form).findByText("Enter your e-mail address.")).toBeInTheDocument();

    resend = apiError(429, "rate_limited", "Too many requests.", undefined, { "Retry-After": "42" });
    await user.type(within(form).getByLabelText("E-mail"), "ada@example.com");
    await user.click(within(form).getByRole("button", { name: "Send a new link" }));
    expect(await within(form).findByText("Too many attempts. Try again in 42 s.")).toBeInTheDocument();

    resend = new Response(null, { status: 202 });
    await user.click(within(form).getByRole("button", { name: "Send a new link" }));
    expect(await screen.findByText(/a new link is on its way/)).toHaveTextContent("If ada@example.com belongs to an account");
    const calls = spy.mock.calls.filter((c) => c[0] === "/api/auth/resend-verification");
    expect(calls.map((c) => JSON.parse(String(c[1]?.body)))).toEqual([{ email: "ada@example.com" }, { email: "ada@example.com" }]);
    // Signed out: no Authorization header (and no refresh attempt on an error).
    expect(new Headers(calls[1][1]?.headers).has("Authorization")).toBe(false);
  });

  it("resends to a signed-in unverified user with one click, and tells a verified one there is nothing to do", async () => {
    const spy = mockFetch(
      signedIn(
        ({ url }) => (url === "/api/auth/resend-verification" ? new Response(null, { status: 202 }) : apiError(400, "invalid_token", "Invalid token.")),
        { ...ME, email_verified: false },
      ),
    );
    const { user } = renderApp("/verify-email?token=used");
    await user.click(await screen.findByRole("button", { name: "Send a new link" }));
    expect(await screen.findByText(/A new link is on its way to/)).toHaveTextContent("ada@example.com");
    const call = spy.mock.calls.find((c) => c[0] === "/api/auth/resend-verification");
    expect(JSON.parse(String(call?.[1]?.body))).toEqual({});
    expect(new Headers(call?.[1]?.headers).get("Authorization")).toBe("Bearer tok");
    vi.unstubAllGlobals();

    mockFetch(signedIn(() => apiError(400, "invalid_token", "Invalid token.")));
    renderApp("/verify-email?token=used");
    expect(await screen.findByText(/there is nothing left to do/)).toHaveTextContent("ada@example.com is already verified");
    expect(screen.queryByRole("button", { name: "Send a new link" })).not.toBeInTheDocument();
  });

  it("offers a new link when the page is opened without a token", async () => {
    mockFetch(anonymous(() => json(404, {})));
    renderApp("/verify-email");
    expect(await screen.findByText(/This link has no token/)).toBeInTheDocument();
    expect(await screen.findByRole("form", { name: "Send a new verification link" })).toBeInTheDocument();
  });
});

describe("endpoints", () => {
  it("shows the new key, URL and curl exactly once", async () => {
    const created = {
      endpoint: { id: "0123456789abcdef0123456789abcdef", name: "backups", created_at: "2025-01-01T00:00:00Z", revoked_at: null, last_used_at: null },
      ingest_key: "bsk_secret",
      ingest_url: "https://beacon.example/api/ingest/0123456789abcdef0123456789abcdef",
    };
    mockFetch(
      signedIn(({ url, method }) => {
        if (url === "/api/ingest-endpoints" && method === "POST") return json(201, created);
        if (url.startsWith("/api/ingest-endpoints")) return json(200, { items: [] });
        return json(404, {});
      }),
    );
    const { user } = renderApp("/endpoints");
    await user.click(await screen.findByRole("button", { name: "New endpoint" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Create endpoint" }));
    expect(await within(dialog).findByText("Give the endpoint a name.")).toBeInTheDocument();
    await user.type(within(dialog).getByLabelText("Name"), "backups");
    await user.click(within(dialog).getByRole("button", { name: "Create endpoint" }));
    expect(await within(dialog).findByText("bsk_secret")).toBeInTheDocument();
    expect(within(dialog).getByText(created.ingest_url)).toBeInTheDocument();
    expect(within(dialog).getByText(/curl -X POST/)).toHaveTextContent("X-Beacon-Ingest-Key: bsk_secret");
    await user.click(within(dialog).getByRole("button", { name: "I have stored the key" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(screen.queryByText("bsk_secret")).not.toBeInTheDocument();
  });
});
