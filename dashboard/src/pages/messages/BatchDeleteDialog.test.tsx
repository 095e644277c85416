import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiError, json, mockFetch } from "../../test/http";
import { ENDPOINTS, signedIn } from "../../test/fixtures";
import { renderApp } from "../../test/render";
import { ApiError } from "../../api/client";
import type { BatchDeleteResult } from "../../api/types";
import { BATCH_STEP, batchDeleteFailure, progressFraction, runBatchDelete, StalledError } from "./batchDelete";

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** Answers the batch-delete calls one by one, each when the test says so. */
function steps() {
  const waiting: ((r: Response) => void)[] = [];
  return {
    answer: () => new Promise<Response>((r) => waiting.push(r)),
    /** Resolve the oldest call still waiting (waits for it to be made). */
    async reply(r: Response) {
      await waitFor(() => expect(waiting.length).toBeGreaterThan(0));
      waiting.shift()!(r);
    },
    pending: () => waiting.length,
  };
}

const ok = (deleted: number, remaining: number) => json(200, { deleted, remaining } satisfies BatchDeleteResult);

function setup(answer: () => Response | Promise<Response>) {
  const spy = mockFetch(
    signedIn(({ url, method }) => {
      if (url === "/api/messages/batch-delete" && method === "POST") return answer();
      if (url.startsWith("/api/messages")) return json(200, { items: [], next_cursor: null });
      if (url.startsWith("/api/ingest-endpoints")) return json(200, { items: ENDPOINTS });
      return json(404, {});
    }),
  );
  return { spy, ...renderApp("/messages") };
}

const posted = (spy: ReturnType<typeof mockFetch>) =>
  spy.mock.calls.filter((c) => c[0] === "/api/messages/batch-delete").map((c) => JSON.parse(String(c[1]?.body)));

async function openDialog(user: ReturnType<typeof setup>["user"]) {
  await user.click(await screen.findByRole("button", { name: "Delete old messages…" }));
  return screen.findByRole("dialog");
}

describe("batch delete dialog", () => {
  it("deletes in steps and shows real progress, then the total", async () => {
    const s = steps();
    const { spy, user } = setup(s.answer);
    const dialog = await openDialog(user);
    await user.clear(within(dialog).getByLabelText("Older than (days)"));
    await user.type(within(dialog).getByLabelText("Older than (days)"), "7");
    await user.selectOptions(within(dialog).getByLabelText("Endpoint"), "e1");
    await user.click(within(dialog).getByRole("button", { name: "Delete older than 7 days" }));

    // Before the first answer the total is unknown: no made-up percentage.
    const bar = await within(dialog).findByRole("progressbar", { name: "Deleting messages" });
    expect(bar).not.toHaveAttribute("aria-valuenow");
    expect(within(dialog).getByTestId("batch-delete-progress")).toHaveTextContent("Counting and deleting the first batch…");
    expect(within(dialog).getByText("Deleting messages of backups older than 7 days.")).toBeInTheDocument();

    await s.reply(ok(500, 1000));
    await waitFor(() => expect(bar).toHaveAttribute("aria-valuenow", "500"));
    expect(bar).toHaveAttribute("aria-valuemax", "1500");
    expect(bar).toHaveAttribute("aria-valuetext", "500 of 1,500 deleted");
    expect(within(dialog).getByTestId("batch-delete-progress")).toHaveTextContent("Deleted 500 of 1,500 messages (33 %)");

    await s.reply(ok(500, 500));
    await waitFor(() => expect(within(dialog).getByTestId("batch-delete-progress")).toHaveTextContent("Deleted 1,000 of 1,500 messages (66 %)"));
    await s.reply(ok(500, 0));

    expect(await within(dialog).findByTestId("batch-delete-result")).toHaveTextContent(
      "Done: deleted 1,500 messages of backups older than 7 days.",
    );
    expect(within(dialog).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "1500");
    const step = { older_than_days: 7, ingest_endpoint_id: "e1", limit: BATCH_STEP };
    expect(posted(spy)).toEqual([step, step, step]);
    await user.click(within(dialog).getByRole("button", { name: "Done" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
  });

  it("stops between steps when asked, and can continue where it stopped", async () => {
    const s = steps();
    const { spy, user } = setup(s.answer);
    const dialog = await openDialog(user);
    await user.click(within(dialog).getByRole("button", { name: "Delete older than 30 days" }));
    await user.click(await within(dialog).findByRole("button", { name: "Stop" }));
    // The step in flight finishes first.
    expect(within(dialog).getByRole("button", { name: "Stopping after this step…" })).toBeDisabled();
    // Closing is not possible while a step runs.
    await user.keyboard("{Escape}");
    expect(screen.getByRole("dialog")).toBeInTheDocument();

    await s.reply(ok(500, 1200));
    expect(await within(dialog).findByTestId("batch-delete-result")).toHaveTextContent(
      "Stopped: deleted 500 messages; 1,200 still match.",
    );
    expect(posted(spy)).toHaveLength(1);
    expect(within(dialog).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "500");

    await user.click(within(dialog).getByRole("button", { name: "Continue deleting" }));
    await s.reply(ok(500, 700));
    await s.reply(ok(700, 0));
    // The count includes what the first run deleted.
    expect(await within(dialog).findByTestId("batch-delete-result")).toHaveTextContent(
      "Done: deleted 1,700 messages older than 30 days.",
    );
    expect(posted(spy)).toHaveLength(3);
  });

  it("says when there was nothing to delete", async () => {
    const { user } = setup(() => ok(0, 0));
    const dialog = await openDialog(user);
    await user.click(within(dialog).getByRole("button", { name: "Delete older than 30 days" }));
    expect(await within(dialog).findByTestId("batch-delete-result")).toHaveTextContent(
      "Done: no messages were older than 30 days, nothing was deleted.",
    );
    expect(within(dialog).queryByRole("progressbar")).not.toBeInTheDocument();
  });

  it("shows a failure in the middle with what was deleted, and continues from there", async () => {
    const answers = [ok(500, 600), apiError(500, "internal", "database is locked"), ok(600, 0)];
    const { spy, user } = setup(() => answers.shift()!);
    const dialog = await openDialog(user);
    await user.click(within(dialog).getByRole("button", { name: "Delete older than 30 days" }));
    expect(await within(dialog).findByTestId("batch-delete-error")).toHaveTextContent(
      "The server stopped with an error (database is locked). 500 messages deleted before this stay deleted. Continuing deletes the rest.",
    );
    expect(within(dialog).getByTestId("batch-delete-progress")).toHaveTextContent("Deleted 500 of 1,100 messages (45 %)");
    await user.click(within(dialog).getByRole("button", { name: "Continue deleting" }));
    expect(await within(dialog).findByTestId("batch-delete-result")).toHaveTextContent("Done: deleted 1,100 messages older than 30 days.");
    expect(posted(spy)).toHaveLength(3);
  });

  it("a failure before anything was deleted offers to try again", async () => {
    const answers = [apiError(503, "unavailable", "try later"), ok(3, 0)];
    const { user } = setup(() => answers.shift()!);
    const dialog = await openDialog(user);
    await user.click(within(dialog).getByRole("button", { name: "Delete older than 30 days" }));
    expect(await within(dialog).findByTestId("batch-delete-error")).toHaveTextContent(/^The server stopped with an error \(try later\)\. Continuing/);
    await user.click(within(dialog).getByRole("button", { name: "Try again" }));
    expect(await within(dialog).findByTestId("batch-delete-result")).toHaveTextContent("Done: deleted 3 messages older than 30 days.");
  });

  it("puts a field error next to the input and goes back to the form", async () => {
    const { user } = setup(() => apiError(422, "validation_failed", "must be at most 36500", "older_than_days"));
    const dialog = await openDialog(user);
    await user.click(within(dialog).getByRole("button", { name: "Delete older than 30 days" }));
    expect(await within(dialog).findByText("must be at most 36500")).toBeInTheDocument();
    expect(within(dialog).getByLabelText("Older than (days)")).toHaveAttribute("aria-invalid", "true");
    expect(within(dialog).queryByTestId("batch-delete-error")).not.toBeInTheDocument();
  });
});

describe("runBatchDelete", () => {
  const never = () => false;

  it("asks again until nothing remains, reporting each step", async () => {
    const answers: BatchDeleteResult[] = [
      { deleted: 2, remaining: 3 },
      { deleted: 2, remaining: 1 },
      { deleted: 1, remaining: 0 },
    ];
    const call = vi.fn(async () => answers.shift()!);
    const seen: unknown[] = [];
    const outcome = await runBatchDelete({ older_than_days: 1 }, { call, onProgress: (p) => seen.push(p), stopRequested: never, step: 2 });
    expect(outcome).toEqual({ kind: "done", deleted: 5, steps: 3 });
    expect(call).toHaveBeenCalledWith({ older_than_days: 1, limit: 2 });
    expect(seen).toEqual([
      { deleted: 2, remaining: 3, steps: 1 },
      { deleted: 4, remaining: 1, steps: 2 },
      { deleted: 5, remaining: 0, steps: 3 },
    ]);
  });

  it("treats an answer without `remaining` (a server that deletes everything at once) as done", async () => {
    const call = vi.fn(async () => ({ deleted: 42 }) as BatchDeleteResult);
    expect(await runBatchDelete({ older_than_days: 1 }, { call, onProgress: () => {}, stopRequested: never })).toEqual({
      kind: "done",
      deleted: 42,
      steps: 1,
    });
  });

  it("stops instead of looping when a step deletes nothing but something remains", async () => {
    const call = vi.fn(async () => ({ deleted: 0, remaining: 9 }));
    const outcome = await runBatchDelete({ older_than_days: 1 }, { call, onProgress: () => {}, stopRequested: never });
    expect(outcome.kind).toBe("failed");
    expect(outcome.kind === "failed" && outcome.error).toBeInstanceOf(StalledError);
    expect(call).toHaveBeenCalledTimes(1);
  });

  it("keeps the count of earlier steps when a later one fails", async () => {
    const err = new TypeError("Failed to fetch");
    const call = vi.fn().mockResolvedValueOnce({ deleted: 500, remaining: 10 }).mockRejectedValueOnce(err);
    expect(await runBatchDelete({ older_than_days: 1 }, { call, onProgress: () => {}, stopRequested: never })).toEqual({
      kind: "failed",
      deleted: 500,
      remaining: 10,
      steps: 1,
      error: err,
    });
  });

  it("progressFraction: unknown before the first answer, complete when there was nothing", () => {
    expect(progressFraction({ deleted: 0, remaining: null, steps: 0 })).toBeNull();
    expect(progressFraction({ deleted: 0, remaining: 0, steps: 1 })).toBe(1);
    expect(progressFraction({ deleted: 1, remaining: 3, steps: 1 })).toBe(0.25);
  });

  it("explains what a lost answer, a refusal or a stall means", () => {
    expect(batchDeleteFailure(new TypeError("Failed to fetch"))).toMatch(/^No answer from the server\. The last step \(up to 500\) may or may not/);
    expect(batchDeleteFailure(new TypeError("Failed to fetch"), 1000)).toMatch(/^No answer from the server\. 1,000 messages deleted before this stay deleted\./);
    expect(batchDeleteFailure(new ApiError(404, { code: "not_found", message: "not found" }))).toBe("Nothing was deleted: not found");
    expect(batchDeleteFailure(new ApiError(404, { code: "not_found", message: "not found" }), 1)).toBe(
      "The server refused the next step: not found. 1 message deleted before this stays deleted.",
    );
    expect(batchDeleteFailure(new StalledError(7))).toMatch(/still counts 7 messages\. Try again later\.$/);
  });
});
