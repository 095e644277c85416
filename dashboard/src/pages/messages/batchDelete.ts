import { ApiError, errorMessage } from "../../api/client";
import type { BatchDeleteRequest, BatchDeleteResult } from "../../api/types";

/** Messages deleted per request: small enough for frequent progress, large enough to be quick. */
export const BATCH_STEP = 500;

export interface BatchProgress {
  /** Deleted so far by this run. */
  deleted: number;
  /** What the server said is still left after the last step (null before the first answer). */
  remaining: number | null;
  /** Requests answered so far. */
  steps: number;
}

export type BatchOutcome =
  | { kind: "done"; deleted: number; steps: number }
  | { kind: "stopped"; deleted: number; remaining: number; steps: number }
  | { kind: "failed"; deleted: number; remaining: number | null; steps: number; error: unknown };

/** The server counted messages left but the last step deleted none: stop instead of asking forever. */
export class StalledError extends Error {
  constructor(readonly remaining: number) {
    super(`the server deleted nothing in the last step but still counts ${remaining}`);
  }
}

export interface RunOptions {
  /** One step: `POST /api/messages/batch-delete` with `limit`. */
  call(body: BatchDeleteRequest): Promise<BatchDeleteResult>;
  /** Called after every answered step. */
  onProgress(progress: BatchProgress): void;
  /** Checked between steps; true ends the run after the step in flight. */
  stopRequested(): boolean;
  step?: number;
}

/**
 * Deletes in steps of `step` until the server reports nothing remaining, the
 * caller asks to stop (between steps: a step the server is working on is not
 * interrupted), or a step fails. Never throws: the outcome says what happened
 * and how many were deleted before it.
 */
export async function runBatchDelete(
  request: Omit<BatchDeleteRequest, "limit">,
  { call, onProgress, stopRequested, step = BATCH_STEP }: RunOptions,
): Promise<BatchOutcome> {
  let deleted = 0;
  let remaining: number | null = null;
  let steps = 0;
  for (;;) {
    let answer: BatchDeleteResult;
    try {
      answer = await call({ ...request, limit: step });
    } catch (error) {
      return { kind: "failed", deleted, remaining, steps, error };
    }
    steps += 1;
    deleted += answer.deleted;
    // A server without stepping answers only `deleted` (it deleted everything).
    remaining = typeof answer.remaining === "number" ? Math.max(0, answer.remaining) : 0;
    onProgress({ deleted, remaining, steps });
    if (remaining === 0) return { kind: "done", deleted, steps };
    if (answer.deleted === 0) return { kind: "failed", deleted, remaining, steps, error: new StalledError(remaining) };
    if (stopRequested()) return { kind: "stopped", deleted, remaining, steps };
  }
}

/** 0…1 once the total is known (deleted + remaining); null before the first answer. */
export function progressFraction(p: BatchProgress): number | null {
  if (p.remaining === null) return null;
  const total = p.deleted + p.remaining;
  return total === 0 ? 1 : p.deleted / total;
}

const number = new Intl.NumberFormat("en");
export const formatCount = (n: number) => number.format(n);
export const messagesWord = (n: number) => `${formatCount(n)} ${n === 1 ? "message" : "messages"}`;

/** What a failed step means for the user's data; `deleted` is what earlier steps deleted. */
export function batchDeleteFailure(err: unknown, deleted = 0): string {
  const before = deleted > 0 ? `${messagesWord(deleted)} deleted before this ${deleted === 1 ? "stays" : "stay"} deleted. ` : "";
  if (err instanceof StalledError) {
    return `Stopped: the server deleted nothing in the last step although it still counts ${messagesWord(
      err.remaining,
    )}. ${before}Try again later.`;
  }
  if (!(err instanceof ApiError)) {
    return `No answer from the server. ${before}The last step (up to ${formatCount(
      BATCH_STEP,
    )}) may or may not have finished: continuing is safe, it only deletes what is left.`;
  }
  if (err.status >= 500) {
    return `The server stopped with an error (${err.message}). ${before}Continuing deletes the rest.`;
  }
  return deleted > 0
    ? `The server refused the next step: ${errorMessage(err)}. ${before}`.trim()
    : `Nothing was deleted: ${errorMessage(err)}`;
}
