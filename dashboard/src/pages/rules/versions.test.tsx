import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Plugin, Rule } from "../../api/types";
import { BARK, CHANNEL, ENDPOINTS, errorFor, KEYWORD_FILTER, RULE, signedIn, STANDARD_FILTER } from "../../test/fixtures";
import { apiError, json, mockFetch, type Handler } from "../../test/http";
import { renderApp } from "../../test/render";
import { draftToInput, emptyDraft, ruleToDraft } from "./ruleDraft";

afterEach(() => vi.unstubAllGlobals());

const v = (version: string, newest = false) => ({
  version,
  wit_version: "0.3.0",
  capabilities: [],
  sha256: "0".repeat(64),
  size_bytes: 1000,
  newest,
  channels: 0,
  rules: 1,
});
const KEYWORD: Plugin = { ...KEYWORD_FILTER, version: "1.1.0", versions: [v("1.1.0", true), v("1.0.0")] };

function api(rule: Rule, overrides: Handler = () => undefined as unknown as Response): Handler {
  return signedIn(async (req) => {
    const o = await overrides(req);
    if (o) return o;
    const { url } = req;
    if (url === "/api/plugins") return json(200, { items: [BARK, STANDARD_FILTER, KEYWORD] });
    if (url === "/api/channels") return json(200, { items: [CHANNEL] });
    if (url.startsWith("/api/ingest-endpoints")) return json(200, { items: ENDPOINTS });
    if (url === `/api/rules/${rule.id}`) return json(200, rule);
    if (url === "/api/rules") return json(200, { items: [rule] });
    return json(404, {});
  });
}

const sent = (spy: ReturnType<typeof mockFetch>, method: string, url: string) =>
  spy.mock.calls.filter((c) => c[0] === url && c[1]?.method === method).map((c) => JSON.parse(String(c[1]?.body)));

describe("extra filter version pin", () => {
  it("follows the newest unless a version is chosen; the pin is sent as `version`", async () => {
    const spy = mockFetch(
      api(RULE, ({ url, method, body }) =>
        url === "/api/rules" && method === "POST" ? json(201, { ...RULE, ...(body as Rule), id: "r9" }) : (undefined as unknown as Response),
      ),
    );
    const { user, router } = renderApp("/rules/new");
    await user.type(await screen.findByLabelText("Name"), "Pinned");
    await user.click(screen.getByRole("button", { name: "Add extra filter" }));
    await user.click(screen.getByRole("button", { name: "Add extra filter" }));
    const [first, second] = [1, 2].map((n) => screen.getByRole("group", { name: `Extra filter ${n}` }));
    const version = within(first).getByLabelText("Filter plugin version");
    expect(version).toHaveValue("");
    expect(within(version).getAllByRole("option").map((o) => o.textContent)).toEqual([
      "Newest (follows upgrades) — now 1.1.0",
      "1.1.0 (newest)",
      "1.0.0",
    ]);
    await user.selectOptions(version, "1.0.0");
    await user.type(within(first).getByLabelText(/Word/), "disk");
    await user.type(within(second).getByLabelText(/Word/), "cpu");
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/rules/r9"));
    expect(sent(spy, "POST", "/api/rules")[0].extra_filters).toEqual([
      { plugin: "keyword", version: "1.0.0", config: { word: "disk" } },
      { plugin: "keyword", config: { word: "cpu" } },
    ]);
  });

  it("a saved pin is shown (even when that version is gone) and can be unpinned; the server's refusal sits beside it", async () => {
    const rule: Rule = { ...RULE, extra_filters: [{ plugin: "keyword", version: "0.9.0", config: { word: "disk" } }] };
    let answer = apiError(422, "unknown_plugin_version", "keyword 0.9.0 is not installed", "extra_filters[0].version");
    const spy = mockFetch(api(rule, ({ url, method }) => (url === "/api/rules/r1" && method === "PUT" ? answer : (undefined as unknown as Response))));
    const { user } = renderApp("/rules/r1");
    const version = await screen.findByLabelText("Filter plugin version");
    expect(version).toHaveValue("0.9.0");
    expect(within(version).getByRole("option", { name: "0.9.0 (not installed)" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(errorFor("Filter plugin version")).toBe("keyword 0.9.0 is not installed"));

    answer = json(200, { ...rule, extra_filters: [{ plugin: "keyword", config: { word: "disk" } }] });
    await user.selectOptions(screen.getByLabelText("Filter plugin version"), "");
    expect(errorFor("Filter plugin version")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(sent(spy, "PUT", "/api/rules/r1")).toHaveLength(2));
    expect(sent(spy, "PUT", "/api/rules/r1").map((b) => b.extra_filters)).toEqual([
      [{ plugin: "keyword", version: "0.9.0", config: { word: "disk" } }],
      [{ plugin: "keyword", config: { word: "disk" } }],
    ]);
  });

  it("round-trips through the draft: a null version is the newest", () => {
    const draft = ruleToDraft({ ...RULE, extra_filters: [{ plugin: "keyword", version: null, config: {} }, { plugin: "keyword", version: "1.0.0", config: {} }] });
    expect(draft.extraFilters.map((x) => x.version)).toEqual(["", "1.0.0"]);
    expect(draftToInput({ ...draft, name: "x" }).extra_filters).toEqual([
      { plugin: "keyword", config: {} },
      { plugin: "keyword", version: "1.0.0", config: {} },
    ]);
    expect(draftToInput({ ...emptyDraft("c1"), name: "x" }).extra_filters).toEqual([]);
  });
});
