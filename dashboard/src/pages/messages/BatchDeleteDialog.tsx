import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Dialog, Progress } from "radix-ui";
import { useId, useState } from "react";
import { useForm } from "react-hook-form";
import { messagesApi, qk } from "../../api/endpoints";
import type { Endpoint } from "../../api/types";
import { Field, FormError } from "../../components/Field";
import { applyApiError } from "../../lib/forms";
import { batchDeleteSchema, type BatchDeleteValues } from "../../lib/schemas";

/** Delete messages older than N days, optionally for one endpoint. */
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

  const onSubmit = handleSubmit(async ({ older_than_days }) => {
    try {
      await del.mutateAsync({ older_than_days, ingest_endpoint_id: endpointId || undefined });
    } catch (err) {
      applyApiError(err, setError, ["older_than_days"]);
    }
  });

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
              <p role="status" className="notice">
                Deleted {del.data.deleted} {del.data.deleted === 1 ? "message" : "messages"}.
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
                  <Progress.Root className="progress" aria-label="Deleting messages">
                    <Progress.Indicator className="progress-indicator indeterminate" />
                  </Progress.Root>
                  <span>Deleting… this can take a while for many messages.</span>
                </div>
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
