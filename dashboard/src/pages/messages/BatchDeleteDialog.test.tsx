import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiError, json, mockFetch } from "../../test/http";
import { ENDPOINTS, signedIn } from "../../test/fixtures";
import { renderApp } from "../../test/render";
import { batchDeleteFailure } from "./BatchDeleteDialog";
import { ApiError } from "../../api/client";

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

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

describe("batch delete", () => {
  it("shows an honest wait while the single call runs, then the count", async () => {
    let finish!: (r: Response) => void;
    const { spy, user } = setup(() => new Promise<Response>((r) => (finish = r)));
    await user.click(await screen.findByRole("button", { name: "Delete old messages…" }));
    const dialog = await screen.findByRole("dialog");
    await user.clear(within(dialog).getByLabelText("Older than (days)"));
    await user.type(within(dialog).getByLabelText("Older than (days)"), "7");
    await user.selectOptions(within(dialog).getByLabelText("Endpoint"), "e1");
    await user.click(within(dialog).getByRole("button", { name: "Delete older than 7 days" }));

    // No made-up percentage: an indeterminate bar and what is going on.
    const bar = await within(dialog).findByRole("progressbar", { name: "Deleting messages" });
    expect(bar).not.toHaveAttribute("aria-valuenow");
    expect(within(dialog).getByText(/reports the number when it has finished/)).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Deleting…" })).toBeDisabled();
    expect(posted(spy)).toEqual([{ older_than_days: 7, ingest_endpoint_id: "e1" }]);

    finish(json(200, { deleted: 1234 }));
    expect(await within(dialog).findByTestId("batch-delete-result")).toHaveTextContent(
      "Done: deleted 1234 messages of backups older than 7 days.",
    );
    await user.click(within(dialog).getByRole("button", { name: "Done" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
  });

  it("says when there was nothing to delete", async () => {
    const { user } = setup(() => json(200, { deleted: 0 }));
    await user.click(await screen.findByRole("button", { name: "Delete old messages…" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Delete older than 30 days" }));
    expect(await within(dialog).findByTestId("batch-delete-result")).toHaveTextContent(
      "Done: no messages were older than 30 days, nothing was deleted.",
    );
  });

  it("shows a failure clearly and lets the user try again", async () => {
    let answer = () => apiError(500, "internal", "database is locked");
    const { spy, user } = setup(() => answer());
    await user.click(await screen.findByRole("button", { name: "Delete old messages…" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Delete older than 30 days" }));
    expect(await within(dialog).findByTestId("batch-delete-error")).toHaveTextContent(
      /stopped with an error \(database is locked\).*deleted before the error stay deleted/,
    );
    answer = () => json(200, { deleted: 3 });
    await user.click(within(dialog).getByRole("button", { name: "Try again" }));
    expect(await within(dialog).findByTestId("batch-delete-result")).toHaveTextContent("Done: deleted 3 messages older than 30 days.");
    expect(posted(spy)).toHaveLength(2);
  });

  it("puts a field error next to the input", async () => {
    const { user } = setup(() => apiError(422, "validation_failed", "must be at most 36500", "older_than_days"));
    await user.click(await screen.findByRole("button", { name: "Delete old messages…" }));
    const dialog = await screen.findByRole("dialog");
    await user.click(within(dialog).getByRole("button", { name: "Delete older than 30 days" }));
    expect(await within(dialog).findByText("must be at most 36500")).toBeInTheDocument();
    expect(within(dialog).queryByTestId("batch-delete-error")).not.toBeInTheDocument();
  });

  it("explains what a lost answer or a refusal means", () => {
    expect(batchDeleteFailure(new TypeError("Failed to fetch"))).toMatch(/^No answer from the server/);
    expect(batchDeleteFailure(new ApiError(404, { code: "not_found", message: "not found" }))).toBe("Nothing was deleted: not found");
  });
});
