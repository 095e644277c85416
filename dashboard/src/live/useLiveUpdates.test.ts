import { QueryClient } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createInvalidator, keysForEvent } from "./useLiveUpdates";

afterEach(() => vi.useRealTimers());

describe("live update invalidation", () => {
  it("maps events to the queries they make stale", () => {
    expect(keysForEvent({ type: "message", data: { id: "m1", endpoint_id: "e", received_at: "t" } })).toEqual([["messages"], ["stats"]]);
    expect(keysForEvent({ type: "delivery", data: { id: "d1", message_id: "m1", status: "sent" } })).toEqual([
      ["message", "m1"],
      ["messages"],
      ["deliveries"],
      ["stats"],
    ]);
    expect(keysForEvent({ type: "resync" })).toEqual([["messages"], ["deliveries"], ["stats"], ["message"]]);
  });

  it("batches a burst of events into one invalidation per query", () => {
    vi.useFakeTimers();
    const qc = new QueryClient();
    const spy = vi.spyOn(qc, "invalidateQueries").mockResolvedValue();
    const inv = createInvalidator(qc, 250);
    for (let i = 0; i < 20; i++) inv.add(keysForEvent({ type: "delivery", data: { id: `d${i}`, message_id: "m1", status: "sent" } }));
    inv.add(keysForEvent({ type: "delivery", data: { id: "x", message_id: "m2", status: "failed" } }));
    expect(spy).not.toHaveBeenCalled();
    vi.advanceTimersByTime(250);
    expect(spy.mock.calls.map((c) => c[0]?.queryKey)).toEqual([["message", "m1"], ["messages"], ["deliveries"], ["stats"], ["message", "m2"]]);
    inv.add([["stats"]]);
    inv.cancel();
    vi.advanceTimersByTime(1000);
    expect(spy).toHaveBeenCalledTimes(5);
  });
});
