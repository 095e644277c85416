import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Rule } from "../../api/types";
import { apiError, json, mockFetch, type Handler } from "../../test/http";
import { CHANNEL, ENDPOINTS, errorFor, PLUGINS, REAL_PLUGINS, RULE, signedIn } from "../../test/fixtures";
import { renderApp } from "../../test/render";

afterEach(() => vi.unstubAllGlobals());

function api(overrides: Handler = () => undefined as unknown as Response): Handler {
  return signedIn(async (req) => {
    const o = await overrides(req);
    if (o) return o;
    const { url } = req;
    if (url === "/api/plugins") return json(200, { items: PLUGINS });
    if (url === "/api/channels") return json(200, { items: [CHANNEL] });
    if (url.startsWith("/api/ingest-endpoints")) return json(200, { items: ENDPOINTS });
    if (url === "/api/rules/r1") return json(200, RULE);
    if (url === "/api/rules") return json(200, { items: [RULE] });
    return json(404, {});
  });
}

const posted = (spy: ReturnType<typeof mockFetch>, url: string) =>
  spy.mock.calls.filter((c) => c[0] === url && c[1]?.method === "POST").map((c) => JSON.parse(String(c[1]?.body)));

describe("rule editor", () => {
  it("validates before calling the API", async () => {
    const spy = mockFetch(api());
    const { user } = renderApp("/rules/new");
    // The only channel is preselected.
    expect(await screen.findByLabelText("Channel")).toHaveValue("c1");
    await user.selectOptions(screen.getByLabelText("Lowest priority"), "4");
    await user.selectOptions(screen.getByLabelText("Highest priority"), "2");
    fireEvent.change(screen.getByLabelText("Payload template (JSON)"), { target: { value: '{"title": ' } });
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    expect(errorFor("Name")).toBe("Give the rule a name.");
    expect(errorFor("Highest priority")).toBe("Must be at least the lowest priority.");
    expect(errorFor("Payload template (JSON)")).toMatch(/^Invalid JSON/);
    await waitFor(() => expect(screen.getByLabelText("Name")).toHaveFocus());
    expect(posted(spy, "/api/rules")).toHaveLength(0);

    // Errors follow the input once shown.
    await user.type(screen.getByLabelText("Name"), "x");
    expect(errorFor("Name")).toBeNull();
  });

  it("sends the rules API body and opens the saved rule", async () => {
    const spy = mockFetch(
      api(({ url, method, body }) => {
        if (url === "/api/rules" && method === "POST") return json(201, { ...RULE, ...(body as Rule), id: "r9" });
        if (url === "/api/rules/r9") return json(200, { ...RULE, id: "r9", name: "Disk to phone" });
        return undefined as unknown as Response;
      }),
    );
    const { user, router } = renderApp("/rules/new");
    await user.type(await screen.findByLabelText("Name"), "Disk to phone");
    await user.click(screen.getByLabelText("backups"));
    await user.type(screen.getByLabelText("Body contains any of"), "disk{Enter}full");
    await user.type(screen.getByLabelText("Body matches regular expression"), "^ALERT");
    await user.selectOptions(screen.getByLabelText("Lowest priority"), "3");
    await user.type(screen.getByLabelText("Has any of these tags"), "ops, Disk");
    await user.type(screen.getByLabelText("Group equals"), "servers");
    await user.click(screen.getByLabelText("Enabled"));

    // Insert a variable at the cursor.
    const tpl = screen.getByLabelText("Payload template (JSON)") as HTMLTextAreaElement;
    fireEvent.change(tpl, { target: { value: '{"level": "", "body": "{{message.body}}"}' } });
    tpl.setSelectionRange(11, 11);
    await user.click(screen.getByRole("button", { name: "Insert {{message.priority}}" }));
    expect(tpl.value).toBe('{"level": "{{message.priority}}", "body": "{{message.body}}"}');

    // Extra filter plugin with its schema-drawn config.
    await user.click(screen.getByRole("button", { name: "Add extra filter" }));
    const extra = screen.getByRole("group", { name: "Extra filter 1" });
    expect(within(extra).getByLabelText("Filter plugin")).toHaveValue("keyword");
    await user.type(within(extra).getByLabelText(/Word/), "test");

    await user.click(screen.getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/rules/r9"));
    expect(posted(spy, "/api/rules")).toEqual([
      {
        name: "Disk to phone",
        enabled: false,
        channel_id: "c1",
        filter: {
          ingest_endpoint_ids: ["e1"],
          body: { contains: ["disk", "full"], regex: "^ALERT" },
          priority: { min: 3 },
          tags: ["ops", "Disk"],
          group: "servers",
        },
        extra_filters: [{ plugin: "keyword", config: { word: "test" } }],
        payload_template: { level: "{{message.priority}}", body: "{{message.body}}" },
      },
    ]);
    expect(await screen.findByText(/Rule created/)).toBeInTheDocument();
  });

  it("shows the API's field errors next to the filter input or extra filter they name", async () => {
    let answer = apiError(422, "validation_failed", "is not a valid regular expression (or too complex)", "filter.body.regex");
    mockFetch(api(({ url, method }) => (url === "/api/rules" && method === "POST" ? answer : (undefined as unknown as Response))));
    const { user } = renderApp("/rules/new");
    await user.type(await screen.findByLabelText("Name"), "r");
    await user.type(screen.getByLabelText("Body matches regular expression"), "(");
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(errorFor("Body matches regular expression")).toBe("is not a valid regular expression (or too complex)"));

    answer = apiError(422, "validation_failed", "must not be empty", "filter.tags[1]");
    await user.type(screen.getByLabelText("Has any of these tags"), "a");
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(errorFor("Has any of these tags")).toBe("Item 2: must not be empty"));

    answer = apiError(422, "validation_failed", "no such channel", "channel_id");
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(errorFor("Channel")).toBe("no such channel"));

    answer = apiError(422, "validation_failed", "must be at least 3 letters", "extra_filters[0].config.word");
    await user.click(screen.getByRole("button", { name: "Add extra filter" }));
    await user.type(screen.getByLabelText(/Word/), "ab");
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(errorFor(/Word/)).toBe("must be at least 3 letters"));
  });

  it("previews the draft against the sample as you type", async () => {
    mockFetch(api());
    const { user } = renderApp("/rules/new");
    const preview = await screen.findByRole("region", { name: "Preview of the draft" });
    expect(within(preview).getByText("matches")).toBeInTheDocument();
    expect(JSON.parse(within(preview).getByTestId("preview-payload").textContent ?? "")).toEqual({
      title: "Disk almost full",
      body: "/dev/sda1 on nas is 91% full",
    });
    await user.selectOptions(screen.getByLabelText("Lowest priority"), "5");
    expect(within(preview).getByText("no match")).toBeInTheDocument();
    expect(within(preview).getByText("Priority 4 is below 5.")).toBeInTheDocument();

    fireEvent.change(screen.getByLabelText("Sample message (JSON)"), { target: { value: '{"title": "x"}' } });
    expect(errorFor("Sample message (JSON)")).toBe('The sample needs a non-empty "body" string.');
  });

  it("tests the saved rule's current draft on the server, unsaved changes included", async () => {
    const spy = mockFetch(
      api(({ url }) =>
        url === "/api/rules/test"
          ? json(200, { results: [{ rule_id: "", name: "Disk alerts!", enabled: true, matched: true, error: null, payload: { title: "T", body: "B" } }] })
          : (undefined as unknown as Response),
      ),
    );
    const { user } = renderApp("/rules/r1");
    expect(await screen.findByLabelText("Name")).toHaveValue("Disk alerts");
    expect(screen.getByLabelText("Body contains any of")).toHaveValue("disk");
    await user.type(screen.getByLabelText("Name"), "!");
    await user.selectOptions(screen.getByLabelText("Arrives on endpoint"), "e2");
    await user.click(screen.getByRole("button", { name: "Test draft on the server" }));
    const result = await screen.findByRole("listitem", { name: "Result for Disk alerts!" });
    expect(within(result).getByText("yes")).toBeInTheDocument();
    expect(posted(spy, "/api/rules/test")).toEqual([
      {
        message: expect.objectContaining({ priority: 4, body: "/dev/sda1 on nas is 91% full" }),
        ingest_endpoint_id: "e2",
        rule: {
          name: "Disk alerts!",
          enabled: true,
          channel_id: "c1",
          filter: { body: { contains: ["disk"] }, priority: { min: 4 } },
          extra_filters: [],
          payload_template: { title: "{{message.title}}", body: "{{message.body}}" },
        },
      },
    ]);
    // Nothing was saved, and the saved rule's own test endpoint is not used.
    expect(spy.mock.calls.some((c) => c[0] === "/api/rules/r1/test" || (c[0] === "/api/rules/r1" && c[1]?.method === "PUT"))).toBe(false);

    // Editing afterwards marks the result as out of date.
    await user.type(screen.getByLabelText("Group equals"), "x");
    expect(screen.getByText(/changed since this result/)).toBeInTheDocument();
  });

  it("tests a new, unnamed draft on the server", async () => {
    const spy = mockFetch(
      api(({ url }) =>
        url === "/api/rules/test"
          ? json(200, { results: [{ rule_id: "", name: "Unnamed draft", enabled: true, matched: false, error: null, payload: {} }] })
          : (undefined as unknown as Response),
      ),
    );
    const { user } = renderApp("/rules/new");
    await user.type(await screen.findByLabelText("Group equals"), "servers");
    await user.click(screen.getByRole("button", { name: "Test draft on the server" }));
    const result = await screen.findByRole("listitem", { name: "Result for Unnamed draft" });
    expect(within(result).getByText("no")).toBeInTheDocument();
    const [body] = posted(spy, "/api/rules/test");
    expect(body.rule).toMatchObject({ name: "Unnamed draft", channel_id: "c1", filter: { group: "servers" } });
    expect(body.ingest_endpoint_id).toBeUndefined();
    // The missing name is not an error for a test.
    expect(errorFor("Name")).toBeNull();
  });

  it("checks the draft before a server test and says what to fix", async () => {
    const spy = mockFetch(api());
    const { user } = renderApp("/rules/new");
    fireEvent.change(await screen.findByLabelText("Payload template (JSON)"), { target: { value: "{" } });
    await user.click(screen.getByRole("button", { name: "Test draft on the server" }));
    expect(errorFor("Payload template (JSON)")).toMatch(/^Invalid JSON/);
    expect(await screen.findByText("Fix the highlighted fields of the rule first.")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByLabelText("Payload template (JSON)")).toHaveFocus());
    expect(posted(spy, "/api/rules/test")).toHaveLength(0);
  });

  it("shows the server test's field errors next to the draft's inputs, the sample and the endpoint", async () => {
    let answer = apiError(422, "validation_failed", "is not a valid regular expression (or too complex)", "rule.filter.body.regex");
    mockFetch(api(({ url }) => (url === "/api/rules/test" ? answer : (undefined as unknown as Response))));
    const { user } = renderApp("/rules/new");
    await user.type(await screen.findByLabelText("Body matches regular expression"), "(");
    const test = screen.getByRole("button", { name: "Test draft on the server" });
    await user.click(test);
    await waitFor(() => expect(errorFor("Body matches regular expression")).toBe("is not a valid regular expression (or too complex)"));
    expect(screen.getByText(/The server refused the draft/)).toBeInTheDocument();
    await waitFor(() => expect(screen.getByLabelText("Body matches regular expression")).toHaveFocus());

    answer = apiError(422, "validation_failed", "must be at least 3 letters", "rule.extra_filters[0].config.word");
    await user.click(screen.getByRole("button", { name: "Add extra filter" }));
    await user.type(screen.getByLabelText(/Word/), "ab");
    await user.click(test);
    await waitFor(() => expect(errorFor(/Word/)).toBe("must be at least 3 letters"));

    answer = apiError(422, "validation_failed", "must be between 1 and 5", "message.priority");
    await user.click(test);
    await waitFor(() => expect(errorFor("Sample message (JSON)")).toBe("priority: must be between 1 and 5"));

    answer = apiError(422, "validation_failed", "no such endpoint", "ingest_endpoint_id");
    await user.click(test);
    await waitFor(() => expect(errorFor("Arrives on endpoint")).toBe("no such endpoint"));
  });
});

describe("rule editor with the real built-in filter plugins", () => {
  /** The input labelled `label` inside `scope`, ignoring the " *" of required fields. */
  const input = (scope: HTMLElement, label: string) =>
    within(scope).getByLabelText((content, el) => content.replace(/\s*\*$/, "") === label && el?.tagName !== "BUTTON");

  it("adds dedupe, rate-limit and quiet-hours filters with forms drawn from their schemas", async () => {
    const spy = mockFetch(
      api(({ url, method, body }) => {
        if (url === "/api/plugins") return json(200, { items: REAL_PLUGINS });
        if (url === "/api/rules" && method === "POST") return json(201, { ...RULE, ...(body as Rule), id: "r9" });
        if (url === "/api/rules/r9") return json(200, { ...RULE, id: "r9" });
        return undefined as unknown as Response;
      }),
    );
    const { user, router } = renderApp("/rules/new");
    await user.type(await screen.findByLabelText("Name"), "Calm alerts");
    const add = screen.getByRole("button", { name: "Add extra filter" });

    await user.click(add);
    const first = screen.getByRole("group", { name: "Extra filter 1" });
    const picker = within(first).getByLabelText("Filter plugin");
    // Filter plugins other than the standard filter, which the editor above stands for.
    expect(within(picker).getAllByRole("option").map((o) => (o as HTMLOptionElement).value)).toEqual([
      "",
      "dedupe",
      "quiet-hours",
      "rate-limit",
    ]);
    await user.selectOptions(picker, "dedupe");
    expect(input(first, "Window seconds")).toHaveAttribute("aria-required", "true");
    expect(input(first, "Window seconds")).toHaveAttribute("placeholder", "e.g. 300");
    await user.type(input(first, "Window seconds"), "300");
    await user.type(input(first, "Fields"), "title{Enter}extras.host");

    await user.click(add);
    const second = screen.getByRole("group", { name: "Extra filter 2" });
    await user.selectOptions(within(second).getByLabelText("Filter plugin"), "rate-limit");
    await user.type(input(second, "Max"), "2");
    await user.type(input(second, "Window seconds"), "60");
    const keyBy = input(second, "Key by");
    expect(within(keyBy).getAllByRole("option").map((o) => o.textContent)).toEqual(["Default (none)", "none", "group", "endpoint"]);
    await user.selectOptions(keyBy, "group");

    await user.click(add);
    const third = screen.getByRole("group", { name: "Extra filter 3" });
    await user.selectOptions(within(third).getByLabelText("Filter plugin"), "quiet-hours");
    await user.type(input(third, "Timezone"), "Europe/Berlin");
    await user.type(input(third, "Start"), "22:00");
    await user.type(input(third, "End"), "7:00");
    const days = within(third).getByRole("group", { name: "Days" });
    expect(within(days).getAllByRole("checkbox").map((c) => c.closest("label")?.textContent?.trim())).toEqual([
      "mon",
      "tue",
      "wed",
      "thu",
      "fri",
      "sat",
      "sun",
    ]);
    await user.click(within(days).getByLabelText("sat"));
    await user.click(within(days).getByLabelText("fri"));
    await user.type(input(third, "Min priority override"), "5");

    // The schema's pattern is checked in the browser first.
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    expect(posted(spy, "/api/rules")).toHaveLength(0);
    await waitFor(() => expect(input(third, "End")).toHaveFocus());
    expect(within(third).getByRole("alert")).toHaveTextContent("Does not have the expected format.");
    await user.clear(input(third, "End"));
    await user.type(input(third, "End"), "07:00");

    await user.click(screen.getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/rules/r9"));
    expect(posted(spy, "/api/rules")[0].extra_filters).toEqual([
      { plugin: "dedupe", config: { window_seconds: 300, fields: ["title", "extras.host"] } },
      { plugin: "rate-limit", config: { max: 2, window_seconds: 60, key_by: "group" } },
      {
        plugin: "quiet-hours",
        config: { timezone: "Europe/Berlin", start: "22:00", end: "07:00", days: ["fri", "sat"], min_priority_override: 5 },
      },
    ]);
  });

  it("keeps dedupe's field names to the schema's pattern and a window in range", async () => {
    const spy = mockFetch(api(({ url }) => (url === "/api/plugins" ? json(200, { items: REAL_PLUGINS }) : (undefined as unknown as Response))));
    const { user } = renderApp("/rules/new");
    await user.type(await screen.findByLabelText("Name"), "Once");
    await user.click(screen.getByRole("button", { name: "Add extra filter" }));
    const extra = screen.getByRole("group", { name: "Extra filter 1" });
    await user.selectOptions(within(extra).getByLabelText("Filter plugin"), "dedupe");
    await user.type(input(extra, "Window seconds"), "999999");
    await user.type(input(extra, "Fields"), "title{Enter}colour");
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    expect(within(extra).getAllByRole("alert").map((a) => a.textContent)).toEqual([
      "Must be at most 604800.",
      "Item 2: Does not have the expected format.",
    ]);
    expect(posted(spy, "/api/rules")).toHaveLength(0);
  });
});

describe("rule editor on narrow screens", () => {
  /** The button that folds the part named `title` (CSS shows it only on narrow screens) and that part's content. */
  function fold(title: string) {
    const toggle = screen.getByRole("button", { name: new RegExp(`^${title}`) });
    const body = document.getElementById(toggle.getAttribute("aria-controls") ?? "")!;
    return { toggle, body, folded: () => body.hasAttribute("data-folded") };
  }

  it("folds the parts behind buttons that sum them up; the groups keep their plain names", async () => {
    mockFetch(api());
    const { user } = renderApp("/rules/new");
    await screen.findByLabelText("Name");
    const filter = fold("Filter");
    const extras = fold("Extra filter plugins");
    const payload = fold("Payload");
    const test = fold("Test against a sample message");
    // The filter is open; the rest is folded until asked for.
    expect(filter.toggle).toHaveAttribute("aria-expanded", "true");
    expect(filter.folded()).toBe(false);
    for (const part of [extras, payload, test]) {
      expect(part.toggle).toHaveAttribute("aria-expanded", "false");
      expect(part.folded()).toBe(true);
    }
    expect(filter.toggle).toHaveTextContent("every message");
    expect(extras.toggle).toHaveTextContent("none");
    expect(payload.toggle).toHaveTextContent("title, body");
    expect(test.toggle).toHaveTextContent("preview: matches");
    expect(screen.getByRole("group", { name: "Filter" })).toContainElement(filter.body);
    expect(screen.getByRole("group", { name: "Payload" })).toContainElement(payload.body);
    expect(screen.getByRole("region", { name: "Test against a sample message" })).toContainElement(test.body);

    // The summaries follow the draft.
    await user.type(screen.getByLabelText("Has any of these tags"), "nas");
    expect(filter.toggle).toHaveTextContent("tagged nas");
    expect(test.toggle).toHaveTextContent("preview: no match");
    fireEvent.change(screen.getByLabelText("Payload template (JSON)"), { target: { value: '{"body": "{{message.bdy}}"}' } });
    expect(payload.toggle).toHaveTextContent("body · 1 warning");

    await user.click(payload.toggle);
    expect(payload.toggle).toHaveAttribute("aria-expanded", "true");
    expect(payload.folded()).toBe(false);
    await user.click(filter.toggle);
    expect(filter.folded()).toBe(true);
  });

  it("unfolds the part holding an error before focusing it", async () => {
    mockFetch(api());
    const { user } = renderApp("/rules/new");
    await user.type(await screen.findByLabelText("Name"), "Disk");
    const payload = fold("Payload");
    const filter = fold("Filter");
    await user.click(filter.toggle);
    fireEvent.change(screen.getByLabelText("Payload template (JSON)"), { target: { value: "{" } });
    expect(payload.toggle).toHaveTextContent("not a JSON object");
    expect(payload.folded()).toBe(true);

    await user.click(screen.getByRole("button", { name: "Create rule" }));
    expect(payload.folded()).toBe(false);
    await waitFor(() => expect(screen.getByLabelText("Payload template (JSON)")).toHaveFocus());
    // A part without errors stays as the user left it.
    expect(filter.folded()).toBe(true);
  });
});
