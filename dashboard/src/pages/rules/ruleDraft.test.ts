import { describe, expect, it } from "vitest";
import { KEYWORD_FILTER, RULE } from "../../test/fixtures";
import {
  describeFilter,
  draftToFilter,
  draftToInput,
  emptyDraft,
  parseSample,
  previewStandardFilter,
  ruleToDraft,
  toJsRegex,
  validateDraft,
} from "./ruleDraft";

describe("rule drafts", () => {
  it("leaves unset filter dimensions out ({} matches everything)", () => {
    expect(draftToFilter(emptyDraft().filter)).toEqual({});
    expect(
      draftToFilter({
        endpointIds: ["e1"],
        contains: "disk\n\n  full \n",
        regex: "(?i)^alert",
        priorityMin: "3",
        priorityMax: "",
        tags: "ops, Disk,,",
        group: " servers ",
      }),
    ).toEqual({
      ingest_endpoint_ids: ["e1"],
      body: { contains: ["disk", "full"], regex: "(?i)^alert" },
      priority: { min: 3 },
      tags: ["ops", "Disk"],
      group: "servers",
    });
  });

  it("round-trips a saved rule", () => {
    const draft = ruleToDraft({ ...RULE, extra_filters: [{ plugin: "keyword", config: { word: "x" } }] });
    expect(draft.filter).toMatchObject({ contains: "disk", priorityMin: "4", priorityMax: "" });
    const { extra_filters, ...rest } = draftToInput(draft);
    expect(rest).toEqual({
      name: RULE.name,
      enabled: true,
      channel_id: "c1",
      filter: RULE.filter,
      payload_template: RULE.payload_template,
    });
    expect(extra_filters).toEqual([{ plugin: "keyword", config: { word: "x" } }]);
  });

  it("validates name, channel, priority range, regex length, template JSON and extra filter configs", () => {
    const d = emptyDraft();
    d.filter.priorityMin = "4";
    d.filter.priorityMax = "2";
    d.filter.regex = "a".repeat(1025);
    d.template = '{"title": ';
    d.extraFilters = [
      { key: "a", plugin: "", version: "", config: {} },
      { key: "b", plugin: "keyword", version: "", config: {} },
    ];
    const errors = validateDraft(d, [KEYWORD_FILTER]);
    expect(Object.keys(errors).sort()).toEqual([
      "channel_id",
      "extra_filters.0.plugin",
      "extra_filters.1.config.word",
      "filter.body.regex",
      "filter.priority.max",
      "name",
      "payload_template",
    ]);
    expect(errors.payload_template).toMatch(/^Invalid JSON/);
    expect(validateDraft({ ...emptyDraft("c1"), name: "ok", template: "[1]" })).toEqual({
      payload_template: "Must be a JSON object ({ … }).",
    });
    expect(validateDraft({ ...emptyDraft("c1"), name: "ok" })).toEqual({});
  });

  it("describes filters for the rules list", () => {
    expect(describeFilter({})).toBe("every message");
    expect(
      describeFilter(
        { ingest_endpoint_ids: ["e1"], body: { contains: ["a", "b"], regex: "x" }, priority: { min: 2, max: 4 }, tags: ["t"], group: "g" },
        (id) => (id === "e1" ? "backups" : id),
      ),
    ).toBe("from backups, body contains “a” or “b”, body matches /x/, priority 2–4, tagged t, group “g”");
  });
});

describe("in-browser preview of the standard filter", () => {
  const msg = { title: "Disk", body: "ALERT: Disk full on nas", priority: 4, tags: ["Ops"], group: "servers" };

  it("ANDs every dimension with the plugin's semantics", () => {
    expect(previewStandardFilter({}, msg)).toEqual({ matched: true, reasons: [] });
    expect(
      previewStandardFilter(
        { ingest_endpoint_ids: ["E-1"], body: { contains: ["DISK"], regex: "^ALERT" }, priority: { min: 4, max: 5 }, tags: ["ops"], group: "servers" },
        msg,
        "e1",
      ).matched,
    ).toBe(true);
    const miss = previewStandardFilter({ priority: { min: 5 }, tags: ["db"], group: "Servers", body: { regex: "^disk" } }, msg);
    expect(miss.matched).toBe(false);
    expect(miss.reasons).toEqual([
      "The body does not match the regular expression.",
      "Priority 4 is below 5.",
      "The message has none of the listed tags.",
      "The group is not “Servers”.",
    ]);
    expect(previewStandardFilter({ body: { regex: "(?i)^alert: disk" } }, msg).matched).toBe(true);
    expect(previewStandardFilter({ ingest_endpoint_ids: ["e2"] }, msg, "e1").matched).toBe(false);
  });

  it("says so when a regex needs the server", () => {
    expect(toJsRegex("(?x) a b")).toBeUndefined();
    expect(toJsRegex("a(?i:b)")).toBeUndefined();
    expect(previewStandardFilter({ body: { regex: "(?x)disk" } }, msg).matched).toBeNull();
    expect(previewStandardFilter({ body: { regex: "(?x)disk" }, priority: { max: 1 } }, msg).matched).toBe(false);
  });

  it("checks sample messages like ingest does", () => {
    expect(parseSample('{"body": "x", "priority": 2}').ok).toBe(true);
    expect(parseSample('{"title": "x"}')).toEqual({ ok: false, error: 'The sample needs a non-empty "body" string.' });
    expect(parseSample('{"body": "x", "priority": 6}').ok).toBe(false);
    expect(parseSample('{"body": "x", "tags": "a"}').ok).toBe(false);
    expect(parseSample('{"body": "x", "extras": {"a": 1}}').ok).toBe(false);
  });
});
