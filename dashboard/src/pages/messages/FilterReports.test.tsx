import { screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MessageDetail } from "../../api/types";
import { json, mockFetch } from "../../test/http";
import { signedIn } from "../../test/fixtures";
import { renderApp } from "../../test/render";
import { sortFilterReports } from "./FilterReports";

afterEach(() => vi.unstubAllGlobals());

const DEDUPE = {
  rule_id: "r4",
  rule_name: "once",
  matched: false,
  note: "dedupe: duplicate of message 01a2 (received 2026-12-06T21:58:02Z), within 300 s",
};
const RATE = {
  rule_id: "r5",
  rule_name: "<img src=x onerror=alert(1)>",
  matched: false,
  note: "rate-limit: rate limit: 2 per 60 s reached (this is message 3 of the window) <script>alert(2)</script>",
};
const QUIET = { rule_id: "r6", rule_name: "night", matched: false, note: "quiet-hours: quiet hours 22:00-07:00 Europe/Berlin (received Sat 03:12)" };
const FAILED = { rule_id: "r3", rule_name: "Regex rule", matched: false, error: "standard-filter: trapped <b>here</b>" };
const FAIL_OPEN = { rule_id: "r7", rule_name: "limited", matched: true, note: "rate-limit: not counted (state store unavailable)" };

const message = (filter_errors: unknown[]): MessageDetail => ({
  id: "m1",
  received_at: "2026-12-06T22:00:00Z",
  endpoint: { id: "e1", name: "backups" },
  title: "Disk full",
  body: "disk full on nas",
  group: null,
  priority: 3,
  tags: [],
  url: null,
  extras: {},
  request: { content_type: "application/json", remote_ip: null, user_agent: null, headers: {}, query: {}, size_bytes: 10 },
  filter_errors,
  deliveries: [],
});

function show(filterErrors: unknown[]) {
  mockFetch(signedIn(({ url }) => (url === "/api/messages/m1" ? json(200, message(filterErrors)) : json(404, {}))));
  return renderApp("/messages/m1");
}

describe("sortFilterReports", () => {
  it("separates failures, filters that held the message back, remarks and unknown shapes", () => {
    const odd = { something: "else" };
    expect(sortFilterReports([DEDUPE, FAILED, FAIL_OPEN, odd, QUIET, "text"])).toEqual({
      failed: [FAILED],
      heldBack: [DEDUPE, QUIET],
      passedWithNote: [FAIL_OPEN],
      other: [odd, "text"],
    });
    // An error wins over a note: the filter failed.
    expect(sortFilterReports([{ ...FAILED, note: "half way" }]).failed).toHaveLength(1);
    expect(sortFilterReports([])).toEqual({ failed: [], heldBack: [], passedWithNote: [], other: [] });
  });
});

describe("message detail: what the filters said", () => {
  it("lists failed filters and filters that held the message back, each under its own heading", async () => {
    show([FAILED, DEDUPE, RATE, QUIET]);
    expect(await screen.findByRole("button", { name: "Filter errors (1)" })).toHaveAttribute("aria-expanded", "true");
    const errors = screen.getByRole("list", { name: "Filter errors" });
    expect(within(errors).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["Regex rule: standard-filter: trapped <b>here</b>"]);
    expect(within(errors).getByRole("link", { name: "Regex rule" })).toHaveAttribute("href", "/rules/r3");

    expect(screen.getByRole("button", { name: "Held back by filters (3)" })).toHaveAttribute("aria-expanded", "true");
    const held = screen.getByRole("list", { name: "Held back by filters" });
    expect(within(held).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      `once: ${DEDUPE.note}`,
      `${RATE.rule_name}: ${RATE.note}`,
      `night: ${QUIET.note}`,
    ]);
    expect(within(held).getByRole("link", { name: "once" })).toHaveAttribute("href", "/rules/r4");
    expect(within(held).getByRole("link", { name: "night" })).toHaveAttribute("href", "/rules/r6");
    expect(within(held).getByRole("link", { name: RATE.rule_name })).toHaveAttribute("href", "/rules/r5");

    // Plain text only: nothing the user (or a plugin) wrote becomes markup.
    const page = screen.getByRole("article");
    expect(page.querySelector("img, script, b")).toBeNull();
    // The empty delivery list points at the reason.
    expect(screen.getByText(/filters held it back from 3 rules: see above/)).toBeInTheDocument();
    // Notes are not dumped as JSON any more.
    expect(screen.queryByText(/"note"/)).toBeNull();
    expect(screen.queryByRole("list", { name: "Filter notes" })).toBeNull();
  });

  it("shows only the held-back section when no filter failed, and remarks of filters that let the message through", async () => {
    show([DEDUPE, FAIL_OPEN, { unexpected: true }]);
    const held = await screen.findByRole("list", { name: "Held back by filters" });
    expect(within(held).getAllByRole("listitem")).toHaveLength(1);
    const notes = screen.getByRole("list", { name: "Filter notes" });
    expect(within(notes).getByRole("listitem")).toHaveTextContent(`limited: ${FAIL_OPEN.note}`);
    // An item of an unknown shape is still shown (as JSON), with the errors.
    const errors = screen.getByRole("list", { name: "Filter errors" });
    expect(within(errors).getByText(/"unexpected": true/)).toBeInTheDocument();
  });

  it("shows no filter sections when the filters said nothing", async () => {
    show([]);
    expect(await screen.findByRole("heading", { name: "Disk full" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Filter errors|Held back|Filter notes/ })).toBeNull();
  });
});
