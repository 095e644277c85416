import { zodResolver } from "@hookform/resolvers/zod";
import { useEffect, useId, useState } from "react";
import { useForm } from "react-hook-form";
import type { Endpoint } from "../../api/types";
import { PriorityOptions } from "../../components/bits";
import { Field } from "../../components/Field";
import { messageFilterSchema, type MessageFilterValues } from "../../lib/schemas";

interface Props {
  values: MessageFilterValues;
  endpoints: Endpoint[];
  /** How many of `values` are in effect (shown on the collapsed panel). */
  activeCount: number;
  onApply(values: MessageFilterValues): void;
}


/**
 * The filter form. On narrow screens (CSS, ≤ 760 px) it is collapsed behind a
 * *Filters* button that says how many are active; applying or clearing
 * collapses it again so the results are in view. Wide screens always show it.
 */
export function FilterBar({ values, endpoints, activeCount, onApply }: Props) {
  const id = useId();
  const [expanded, setExpanded] = useState(false);
  const {
    register,
    handleSubmit,
    reset,
    formState: { errors },
  } = useForm<MessageFilterValues>({ resolver: zodResolver(messageFilterSchema), defaultValues: values });
  // Back/forward navigation changes the URL: show what is applied.
  const key = JSON.stringify(values);
  useEffect(() => reset(values), [key]); // eslint-disable-line react-hooks/exhaustive-deps

  const empty: MessageFilterValues = {
    endpoint_id: "",
    q: "",
    group: "",
    tag: "",
    priority_min: "",
    priority_max: "",
    since: "",
    until: "",
    scheduled: false,
  };

  const apply = (v: MessageFilterValues) => {
    setExpanded(false);
    onApply(v);
  };

  return (
    <div className="filters-panel" data-expanded={expanded || undefined}>
      <button
        type="button"
        className="btn filters-toggle"
        aria-expanded={expanded}
        aria-controls={`${id}-form`}
        onClick={() => setExpanded((e) => !e)}
      >
        <svg aria-hidden="true" width="16" height="16" viewBox="0 0 16 16">
          <path d="M1.5 3h13M4 8h8M6.5 13h3" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        </svg>
        Filters
        <span className="filters-count" data-testid="active-filter-count" data-active={activeCount > 0 || undefined}>
          {activeCount === 0 ? "none active" : `${activeCount} active`}
        </span>
        <svg aria-hidden="true" width="10" height="10" viewBox="0 0 10 10" className={`caret${expanded ? " caret-up" : ""}`}>
          <path d="M1 3l4 4 4-4" fill="none" stroke="currentColor" strokeWidth="1.6" />
        </svg>
      </button>
      <form
        id={`${id}-form`}
        className="filters"
        role="search"
        aria-label="Filter messages"
        onSubmit={handleSubmit(apply)}
        noValidate
      >
        <Field label="Text" type="search" placeholder="in title or body" {...register("q")} className="grow" />
        <div className="field">
          <label htmlFor={`${id}-ep`}>Endpoint</label>
          <select id={`${id}-ep`} {...register("endpoint_id")}>
            <option value="">All endpoints</option>
            {endpoints.map((e) => (
              <option key={e.id} value={e.id}>
                {e.name}
                {e.archived_at ? " (archived)" : e.revoked_at ? " (revoked)" : ""}
              </option>
            ))}
          </select>
        </div>
        <Field label="Group" className="pair" {...register("group")} />
        <Field label="Tag" className="pair" {...register("tag")} />
        <div className="field pair">
          <label htmlFor={`${id}-pmin`}>Priority from</label>
          <select id={`${id}-pmin`} {...register("priority_min")}>
            <PriorityOptions />
          </select>
        </div>
        <div className="field pair">
          <label htmlFor={`${id}-pmax`}>Priority to</label>
          <select
            id={`${id}-pmax`}
            aria-invalid={errors.priority_max ? true : undefined}
            aria-describedby={errors.priority_max ? `${id}-pmax-err` : undefined}
            {...register("priority_max")}
          >
            <PriorityOptions />
          </select>
          {errors.priority_max && (
            <p className="field-error" id={`${id}-pmax-err`} role="alert">
              {errors.priority_max.message}
            </p>
          )}
        </div>
        <Field label="Since" type="datetime-local" {...register("since")} />
        <Field label="Until" type="datetime-local" error={errors.until} {...register("until")} />
        <label className="checkbox filter-check" title="Messages whose deliveries wait for a time given at ingest (deliver_at or delay)">
          <input type="checkbox" {...register("scheduled")} />
          Scheduled only
        </label>
        <div className="filter-actions">
          <button type="submit" className="btn btn-primary">
            Apply
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => {
              reset(empty);
              apply(empty);
            }}
          >
            Clear
          </button>
        </div>
      </form>
    </div>
  );
}
