import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Dialog, Progress } from "radix-ui";
import { useEffect, useId, useState } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { useForm } from "react-hook-form";
import { messagesApi, qk } from "../../api/endpoints";
import type { Endpoint } from "../../api/types";
import { Field, FormError } from "../../components/Field";
import { applyApiError } from "../../lib/forms";
import { batchDeleteSchema, type BatchDeleteValues } from "../../lib/schemas";

/** Whole seconds since `since` (ms), ticking once a second while `running`. */
function useElapsedSeconds(running: boolean, since: number): number {
  const [now, setNow] = useState(since);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running]);
  return running ? Math.max(0, Math.floor((now - since) / 1000)) : 0;
}

/** What a failed batch delete means for the user's data. */
export function batchDeleteFailure(err: unknown): string {
  if (!(err instanceof ApiError)) {
    return "No answer from the server. The deletion may still have finished: close this and look at the list before trying again.";
  }
  if (err.status >= 500) {
    return `The server stopped with an error (${err.message}). It deletes in chunks, so messages deleted before the error stay deleted; run it again to delete the rest.`;
  }
  return `Nothing was deleted: ${errorMessage(err)}`;
}

/**
 * Delete messages older than N days, optionally for one endpoint.
 *
 * `POST /api/messages/batch-delete` deletes everything in one call and only
 * then answers with the count, so there is no progress to show while it runs:
 * the bar is indeterminate (with the time elapsed) and the count comes at the end.
 */
export function BatchDeleteDialog({ endpoints, defaultEndpointId }: { endpoints: Endpoint[]; defaultEndpointId?: string }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [endpointId, setEndpointId] = useState(defaultEndpointId ?? "");
  const queryClient = useQueryClient();
  const del = useMutation({
    mutationFn: messagesApi.batchDelete,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: qk.messagesAll }),
  });
  const {
    register,
    handleSubmit,
    setError,
    reset,
    watch,
    formState: { errors },
  } = useForm<BatchDeleteValues>({ resolver: zodResolver(batchDeleteSchema), defaultValues: { older_than_days: 30 } });
  const days = watch("older_than_days");
  // The request that produced the shown result (the form can change afterwards).
  const [ran, setRan] = useState<{ days: number; endpoint?: string; at: number }>();
  const elapsed = useElapsedSeconds(del.isPending, ran?.at ?? 0);
  const endpointName = (eid?: string) => endpoints.find((e) => e.id === eid)?.name;

  const onSubmit = handleSubmit(async ({ older_than_days }) => {
    setRan({ days: older_than_days, endpoint: endpointName(endpointId), at: Date.now() });
    try {
      await del.mutateAsync({ older_than_days, ingest_endpoint_id: endpointId || undefined });
    } catch (err) {
      // A field error goes next to its input; anything else is shown as the failure below.
      if (err instanceof ApiError && err.field === "older_than_days") applyApiError(err, setError, ["older_than_days"]);
    }
  });
  const fieldError = del.error instanceof ApiError && del.error.field === "older_than_days";

  return (
    <Dialog.Root
      open={open}
      onOpenChange={(o) => {
        if (del.isPending) return; // keep the progress visible until the server answers
        setOpen(o);
        if (!o) {
          del.reset();
          reset();
        } else setEndpointId(defaultEndpointId ?? "");
      }}
    >
      <Dialog.Trigger asChild>
        <button type="button" className="btn btn-danger-outline">
          Delete old messages…
        </button>
      </Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content className="dialog">
          <Dialog.Title className="dialog-title">Delete old messages</Dialog.Title>
          <Dialog.Description className="dialog-description">
            Permanently removes messages received more than the given number of days ago (0 deletes all), with their
            deliveries.
          </Dialog.Description>
          {del.isSuccess ? (
            <>
              <p role="status" className="notice" data-testid="batch-delete-result">
                {del.data.deleted === 0
                  ? `Done: no messages${ran?.endpoint ? ` of ${ran.endpoint}` : ""} were ${
                      ran?.days === 0 ? "left" : `older than ${ran?.days} days`
                    }, nothing was deleted.`
                  : `Done: deleted ${del.data.deleted} ${del.data.deleted === 1 ? "message" : "messages"}${
                      ran?.endpoint ? ` of ${ran.endpoint}` : ""
                    }${ran?.days === 0 ? "" : ` older than ${ran?.days} days`}.`}
              </p>
              <div className="dialog-actions">
                <Dialog.Close asChild>
                  <button type="button" className="btn btn-primary">
                    Done
                  </button>
                </Dialog.Close>
              </div>
            </>
          ) : (
            <form onSubmit={onSubmit} noValidate className="form">
              <FormError message={errors.root?.server?.message} />
              <Field
                label="Older than (days)"
                type="number"
                min={0}
                step={1}
                inputMode="numeric"
                error={errors.older_than_days}
                {...register("older_than_days", { valueAsNumber: true })}
              />
              <div className="field">
                <label htmlFor={`${id}-ep`}>Endpoint</label>
                <select id={`${id}-ep`} value={endpointId} onChange={(e) => setEndpointId(e.target.value)}>
                  <option value="">All endpoints</option>
                  {endpoints.map((e) => (
                    <option key={e.id} value={e.id}>
                      {e.name}
                    </option>
                  ))}
                </select>
              </div>
              {del.isPending && (
                <div className="progress-wrap" role="status">
                  <Progress.Root className="progress" aria-label="Deleting messages" value={null}>
                    <Progress.Indicator className="progress-indicator indeterminate" />
                  </Progress.Root>
                  <span>
                    Deleting… {elapsed > 0 ? `${elapsed} s. ` : ""}The server reports the number when it has finished; this
                    can take a while for many messages.
                  </span>
                </div>
              )}
              {del.isError && !fieldError && (
                <p className="form-error" role="alert" data-testid="batch-delete-error">
                  {batchDeleteFailure(del.error)}
                </p>
              )}
              <div className="dialog-actions">
                <Dialog.Close asChild>
                  <button type="button" className="btn" disabled={del.isPending}>
                    Cancel
                  </button>
                </Dialog.Close>
                <button type="submit" className="btn btn-danger" disabled={del.isPending}>
                  {del.isPending
                    ? "Deleting…"
                    : del.isError && !fieldError
                      ? "Try again"
                      : Number.isFinite(days) && days === 0
                      ? "Delete all messages"
                      : `Delete older than ${Number.isFinite(days) ? days : "N"} days`}
                </button>
              </div>
            </form>
          )}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
