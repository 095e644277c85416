import { describe, expect, it } from "vitest";
import { messageFilterSchema } from "../../lib/schemas";
import { activeFilterCount, apiFiltersFromParams, formValuesFromParams, paramsFromFormValues } from "./filters";

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
