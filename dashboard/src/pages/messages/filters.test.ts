import { describe, expect, it } from "vitest";
import { messageFilterSchema } from "../../lib/schemas";
import { activeFilterCount, apiFiltersFromParams, formValuesFromParams, hasActiveFilters, onlyScheduled, paramsFromFormValues } from "./filters";

describe("message filters", () => {
  it("keeps only set values in the URL and sends RFC 3339 times", () => {
    const params = paramsFromFormValues({
      endpoint_id: "e1",
      q: " disk ",
      group: "",
      tag: "ops",
      priority_min: "2",
      priority_max: "",
      since: "2025-03-01T10:00",
      until: "",
      scheduled: false,
    });
    expect(params.toString()).toBe("endpoint_id=e1&q=disk&tag=ops&priority_min=2&since=2025-03-01T10%3A00");
    const api = apiFiltersFromParams(params);
    expect(api).toMatchObject({ endpoint_id: "e1", q: "disk", tag: "ops", priority_min: 2, priority_max: undefined });
    expect(api.since).toBe(new Date("2025-03-01T10:00").toISOString());
    expect(formValuesFromParams(params).priority_max).toBe("");
  });

  it("ignores out-of-range priorities from a hand-edited URL", () => {
    expect(apiFiltersFromParams(new URLSearchParams("priority_min=9&priority_max=x")).priority_min).toBeUndefined();
  });

  it("rejects a reversed priority range", () => {
    const r = messageFilterSchema.safeParse({ ...formValuesFromParams(new URLSearchParams()), priority_min: "4", priority_max: "2" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual(["priority_max"]);
  });
});

describe("activeFilterCount", () => {
  it("counts each applied filter once, ignoring empty and invalid values", () => {
    expect(activeFilterCount(apiFiltersFromParams(new URLSearchParams("")))).toBe(0);
    expect(activeFilterCount(apiFiltersFromParams(new URLSearchParams("q=disk&priority_min=3&priority_max=9&tag=%20")))).toBe(2);
    expect(activeFilterCount(apiFiltersFromParams(new URLSearchParams("since=2025-03-01T10:00&until=2025-03-02T10:00&group=nas")))).toBe(3);
  });
});

describe("the Scheduled filter", () => {
  const none = formValuesFromParams(new URLSearchParams());

  it("is off by default and leaves nothing in the URL or the query", () => {
    expect(none.scheduled).toBe(false);
    expect(paramsFromFormValues(none).toString()).toBe("");
    const api = apiFiltersFromParams(new URLSearchParams());
    expect(api.scheduled).toBeUndefined();
    expect(hasActiveFilters(api)).toBe(false);
  });

  it("round-trips through the URL as scheduled=true and is sent as scheduled: true", () => {
    const params = paramsFromFormValues({ ...none, q: "backup", scheduled: true });
    expect(params.toString()).toBe("q=backup&scheduled=true");
    expect(formValuesFromParams(params)).toMatchObject({ q: "backup", scheduled: true });
    const api = apiFiltersFromParams(params);
    expect(api).toMatchObject({ q: "backup", scheduled: true });
    expect(activeFilterCount(api)).toBe(2);
    expect(onlyScheduled(api)).toBe(false);
    expect(onlyScheduled(apiFiltersFromParams(new URLSearchParams("scheduled=true")))).toBe(true);
  });

  it("ignores other values from a hand-edited URL", () => {
    for (const v of ["false", "yes", ""]) {
      const params = new URLSearchParams({ scheduled: v });
      expect(formValuesFromParams(params).scheduled).toBe(false);
      expect(apiFiltersFromParams(params).scheduled).toBeUndefined();
    }
  });

  it("passes the form schema", () => {
    expect(messageFilterSchema.safeParse({ ...none, scheduled: true }).success).toBe(true);
  });
});
