import type { ReactNode } from "react";

/**
 * A plugin version picker: the newest (follows upgrades) or one installed
 * version (pins it); a pinned version that is no longer installed stays
 * selectable, marked as such. Used by the rule editor's extra filters and an
 * endpoint's adapter.
 */
export function PluginVersionSelect({
  id,
  label,
  value,
  versions,
  newest,
  error,
  hint,
  onChange,
}: {
  id: string;
  label: string;
  /** "" follows the newest; a version pins it. */
  value: string;
  /** Installed versions, newest first. */
  versions: string[];
  newest?: string;
  error?: string;
  hint?: ReactNode;
  onChange(version: string): void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={[hint ? `${id}-hint` : "", error ? `${id}-err` : ""].filter(Boolean).join(" ") || undefined}
      >
        <option value="">Newest (follows upgrades){newest ? ` — now ${newest}` : ""}</option>
        {versions.map((v) => (
          <option key={v} value={v}>
            {v}
            {v === newest ? " (newest)" : ""}
          </option>
        ))}
        {value && !versions.includes(value) && <option value={value}>{value} (not installed)</option>}
      </select>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p className="field-error" id={`${id}-err`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
