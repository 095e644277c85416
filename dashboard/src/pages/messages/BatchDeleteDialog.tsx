import { zodResolver } from "@hookform/resolvers/zod";
import { useQueryClient } from "@tanstack/react-query";
import { Dialog, Progress } from "radix-ui";
import { useEffect, useId, useRef, useState } from "react";
import { useForm } from "react-hook-form";
import { ApiError } from "../../api/client";
import { messagesApi, qk } from "../../api/endpoints";
import type { Endpoint } from "../../api/types";
import { Field, FormError } from "../../components/Field";
import { applyApiError } from "../../lib/forms";
import { batchDeleteSchema, type BatchDeleteValues } from "../../lib/schemas";
import {
  batchDeleteFailure,
  formatCount,
  messagesWord,
  progressFraction,
  runBatchDelete,
  type BatchOutcome,
  type BatchProgress,
} from "./batchDelete";

export { batchDeleteFailure } from "./batchDelete";

/** What the user asked to delete (the form can change afterwards). */
interface Target {
  days: number;
  endpointId?: string;
  endpointName?: string;
}

type Phase = { name: "form" } | { name: "running"; stopping: boolean } | { name: "finished"; outcome: BatchOutcome };

const scope = (t?: Target) =>
  `${t?.endpointName ? ` of ${t.endpointName}` : ""}${t && t.days > 0 ? ` older than ${t.days} ${t.days === 1 ? "day" : "days"}` : ""}`;

function ProgressBar({ progress }: { progress: BatchProgress }) {
  const fraction = progressFraction(progress);
  const total = progress.remaining === null ? null : progress.deleted + progress.remaining;
  const percent = fraction === null ? null : Math.floor(fraction * 100);
  return (
    <div className="progress-wrap">
      <Progress.Root
        className="progress"
        aria-label="Deleting messages"
        value={total === null || total === 0 ? null : progress.deleted}
        max={total || 100}
        getValueLabel={(value, max) => `${formatCount(value)} of ${formatCount(max)} deleted`}
      >
        <Progress.Indicator
          className={`progress-indicator${percent === null ? " indeterminate" : ""}`}
          style={percent === null ? undefined : { width: `${percent}%` }}
        />
      </Progress.Root>
      <p className="progress-text" aria-live="polite" data-testid="batch-delete-progress">
        {total === null
          ? "Counting and deleting the first batch…"
          : `Deleted ${formatCount(progress.deleted)} of ${messagesWord(total)} (${percent} %)`}
      </p>
    </div>
  );
}

/**
 * Delete messages older than N days, optionally for one endpoint.
 *
 * Works in steps (`limit` per `POST /api/messages/batch-delete`, which answers
 * `{deleted, remaining}`), so the bar shows real progress and the user can
 * stop between steps. Whatever a step deleted stays deleted; *Continue* picks
 * up what is left.
 */
export function BatchDeleteDialog({ endpoints, defaultEndpointId }: { endpoints: Endpoint[]; defaultEndpointId?: string }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [endpointId, setEndpointId] = useState(defaultEndpointId ?? "");
  const [phase, setPhase] = useState<Phase>({ name: "form" });
  const [progress, setProgress] = useState<BatchProgress>({ deleted: 0, remaining: null, steps: 0 });
  const [target, setTarget] = useState<Target>();
  const stop = useRef(false);
  // The loop ends when the page goes away (e.g. the browser's back button).
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const queryClient = useQueryClient();
  const {
    register,
    handleSubmit,
    setError,
    reset,
    watch,
    formState: { errors },
  } = useForm<BatchDeleteValues>({ resolver: zodResolver(batchDeleteSchema), defaultValues: { older_than_days: 30 } });
  const days = watch("older_than_days");
  const running = phase.name === "running";

  async function run(t: Target, alreadyDeleted: number) {
    stop.current = false;
    setTarget(t);
    setPhase({ name: "running", stopping: false });
    setProgress({ deleted: alreadyDeleted, remaining: null, steps: 0 });
    const outcome = await runBatchDelete(
      { older_than_days: t.days, ingest_endpoint_id: t.endpointId },
      {
        call: messagesApi.batchDelete,
        onProgress: (p) => {
          if (mounted.current) setProgress({ ...p, deleted: alreadyDeleted + p.deleted });
        },
        stopRequested: () => stop.current || !mounted.current,
      },
    );
    if (outcome.deleted > 0) {
      for (const queryKey of [qk.messagesAll, qk.deliveriesAll, qk.statsAll]) void queryClient.invalidateQueries({ queryKey });
    }
    if (!mounted.current) return;
    const total = { ...outcome, deleted: alreadyDeleted + outcome.deleted };
    if (total.kind === "failed" && total.deleted === 0 && total.error instanceof ApiError && total.error.field === "older_than_days") {
      // Refused before anything happened: the message goes next to its input.
      applyApiError(total.error, setError, ["older_than_days"]);
      setPhase({ name: "form" });
      return;
    }
    setPhase({ name: "finished", outcome: total });
  }

  const onSubmit = handleSubmit(({ older_than_days }) =>
    run(
      {
        days: older_than_days,
        endpointId: endpointId || undefined,
        endpointName: endpoints.find((e) => e.id === endpointId)?.name,
      },
      0,
    ),
  );

  const outcome = phase.name === "finished" ? phase.outcome : undefined;

  return (
    <Dialog.Root
      open={open}
      onOpenChange={(o) => {
        if (running) return; // stop first: the progress stays visible until the step in flight has answered
        setOpen(o);
        if (!o) {
          setPhase({ name: "form" });
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
          {phase.name === "form" && (
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
              <div className="dialog-actions">
                <Dialog.Close asChild>
                  <button type="button" className="btn">
                    Cancel
                  </button>
                </Dialog.Close>
                <button type="submit" className="btn btn-danger">
                  {Number.isFinite(days) && days === 0
                    ? "Delete all messages"
                    : `Delete older than ${Number.isFinite(days) ? days : "N"} days`}
                </button>
              </div>
            </form>
          )}

          {phase.name !== "form" && (
            <div className="form">
              <p className="muted">Deleting messages{scope(target) || " (all of them)"}.</p>
              {!(outcome?.kind === "done" && outcome.deleted === 0) && <ProgressBar progress={progress} />}
              {running && (
                <div className="dialog-actions">
                  <button
                    type="button"
                    className="btn"
                    autoFocus
                    disabled={phase.stopping}
                    onClick={() => {
                      stop.current = true;
                      setPhase({ name: "running", stopping: true });
                    }}
                  >
                    {phase.stopping ? "Stopping after this step…" : "Stop"}
                  </button>
                </div>
              )}
              {outcome && <Finished outcome={outcome} target={target} onContinue={() => target && run(target, outcome.deleted)} />}
            </div>
          )}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

function Finished({ outcome, target, onContinue }: { outcome: BatchOutcome; target?: Target; onContinue(): void }) {
  const close = (label: string, primary = false) => (
    <Dialog.Close asChild>
      <button type="button" className={primary ? "btn btn-primary" : "btn"} autoFocus={primary}>
        {label}
      </button>
    </Dialog.Close>
  );
  if (outcome.kind === "done") {
    return (
      <>
        <p role="status" className="notice" data-testid="batch-delete-result">
          {outcome.deleted === 0
            ? `Done: no messages${target?.endpointName ? ` of ${target.endpointName}` : ""} were ${
                target?.days === 0 ? "left" : `older than ${target?.days} days`
              }, nothing was deleted.`
            : `Done: deleted ${messagesWord(outcome.deleted)}${scope(target)}.`}
        </p>
        <div className="dialog-actions">{close("Done", true)}</div>
      </>
    );
  }
  if (outcome.kind === "stopped") {
    return (
      <>
        <p role="status" className="notice" data-testid="batch-delete-result">
          Stopped: deleted {messagesWord(outcome.deleted)}; {formatCount(outcome.remaining)} still{" "}
          {outcome.remaining === 1 ? "matches" : "match"}.
        </p>
        <div className="dialog-actions">
          {close("Close", true)}
          <button type="button" className="btn btn-danger-outline" onClick={onContinue}>
            Continue deleting
          </button>
        </div>
      </>
    );
  }
  return (
    <>
      <p className="form-error" role="alert" data-testid="batch-delete-error">
        {batchDeleteFailure(outcome.error, outcome.deleted)}
      </p>
      <div className="dialog-actions">
        {close("Close", true)}
        <button type="button" className="btn btn-danger-outline" onClick={onContinue}>
          {outcome.deleted > 0 ? "Continue deleting" : "Try again"}
        </button>
      </div>
    </>
  );
}
