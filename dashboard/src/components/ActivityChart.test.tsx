import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Activity } from "../api/types";
import { ActivityChart, niceScale } from "./ActivityChart";

function activity(values: [number, number, number][]): Activity {
  const start = Date.parse("2025-03-01T00:00:00Z");
  return {
    bucket_seconds: 3600,
    from: new Date(start).toISOString(),
    to: new Date(start + values.length * 3600_000).toISOString(),
    buckets: values.map(([messages, sent, failed], i) => ({
      start: new Date(start + i * 3600_000).toISOString(),
      messages,
      sent,
      failed,
    })),
  };
}

describe("niceScale", () => {
  it("picks round maxima", () => {
    expect(niceScale(0)).toEqual({ top: 1, step: 1 });
    expect(niceScale(3)).toEqual({ top: 3, step: 1 });
    expect(niceScale(7)).toEqual({ top: 8, step: 2 });
    expect(niceScale(37)).toEqual({ top: 40, step: 10 });
    expect(niceScale(1234)).toEqual({ top: 1500, step: 500 });
  });
});

describe("ActivityChart", () => {
  it("draws one bar per non-zero value, stacks failed on sent, and describes itself", () => {
    const values: [number, number, number][] = Array.from({ length: 24 }, () => [0, 0, 0]);
    values[3] = [5, 4, 1];
    values[23] = [2, 0, 2];
    const { container } = render(<ActivityChart activity={activity(values)} title="Last 24 hours" />);
    const svg = screen.getByRole("img", { name: /Last 24 hours/ });
    expect(svg).toHaveAccessibleName(expect.stringContaining("7 messages, 4 deliveries sent and 3 failed over 24 hours."));
    expect(container.querySelectorAll(".bar-messages")).toHaveLength(2);
    expect(container.querySelectorAll(".bar-sent")).toHaveLength(1);
    expect(container.querySelectorAll(".bar-failed")).toHaveLength(2);

    const sentBar = container.querySelector(".bar-sent")!;
    const failedBar = container.querySelectorAll(".bar-failed")[0];
    // Stacked: the failed segment ends where the sent one starts.
    expect(Number(failedBar.getAttribute("y")) + Number(failedBar.getAttribute("height"))).toBeCloseTo(Number(sentBar.getAttribute("y")));
    expect(within(sentBar as HTMLElement).getByText(/4 sent/)).toBeInTheDocument();

    const legend = screen.getByRole("list", { name: "Legend" });
    expect(within(legend).getAllByRole("listitem").map((li) => li.textContent?.trim())).toEqual([
      "Messages",
      "Deliveries sent",
      "Deliveries failed",
    ]);
    // The numbers as a table: a header row plus one row per hour.
    expect(within(screen.getByRole("table")).getAllByRole("row")).toHaveLength(25);
  });

  it("says when there was no activity", () => {
    render(<ActivityChart activity={activity([[0, 0, 0], [0, 0, 0]])} />);
    expect(screen.getByText("No activity in this period")).toBeInTheDocument();
  });
});
