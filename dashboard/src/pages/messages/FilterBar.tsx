import { zodResolver } from "@hookform/resolvers/zod";
import { useEffect, useId } from "react";
import { useForm } from "react-hook-form";
import type { Endpoint } from "../../api/types";
import { Field } from "../../components/Field";
import { messageFilterSchema, type MessageFilterValues } from "../../lib/schemas";

interface Props {
  values: MessageFilterValues;
  endpoints: Endpoint[];
  onApply(values: MessageFilterValues): void;
}

const PRIORITIES = ["1", "2", "3", "4", "5"];

export function FilterBar({ values, endpoints, onApply }: Props) {
  const id = useId();
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
  };

  return (
    <form className="filters" role="search" aria-label="Filter messages" onSubmit={handleSubmit((v) => onApply(v))} noValidate>
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
      <Field label="Group" {...register("group")} />
      <Field label="Tag" {...register("tag")} />
      <div className="field">
        <label htmlFor={`${id}-pmin`}>Priority from</label>
        <select id={`${id}-pmin`} {...register("priority_min")}>
          <option value="">any</option>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-pmax`}>Priority to</label>
        <select
          id={`${id}-pmax`}
          aria-invalid={errors.priority_max ? true : undefined}
          aria-describedby={errors.priority_max ? `${id}-pmax-err` : undefined}
          {...register("priority_max")}
        >
          <option value="">any</option>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        {errors.priority_max && (
          <p className="field-error" id={`${id}-pmax-err`} role="alert">
            {errors.priority_max.message}
          </p>
        )}
      </div>
      <Field label="Since" type="datetime-local" {...register("since")} />
      <Field label="Until" type="datetime-local" error={errors.until} {...register("until")} />
      <div className="filter-actions">
        <button type="submit" className="btn btn-primary">
          Apply
        </button>
        <button
          type="button"
          className="btn"
          onClick={() => {
            reset(empty);
            onApply(empty);
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}
