import { Tabs } from "radix-ui";
import { useEffect, useId, useState } from "react";
import { deref, fieldKind, fieldPaths, foldErrors, isSecret, labelFor, mainType, SECRET_MASK, type JsonSchema } from "./schema";

type Obj = Record<string, unknown>;

export interface SchemaFormProps {
  /** The plugin's config JSON Schema (an object schema). */
  schema: JsonSchema;
  /** The whole config, including keys the schema does not know (kept as they are). */
  value: Obj;
  onChange(value: Obj): void;
  /** Messages by dotted path, from `validateConfig` or the server's `field`. */
  errors?: Record<string, string>;
  /** Accessible name of the whole editor. */
  label?: string;
}

/**
 * A form drawn from a plugin's config schema, with a raw JSON mode. Form
 * inputs only touch the keys they own, so unknown keys survive both modes.
 */
export function SchemaForm({ schema, value, onChange, errors = {}, label = "Configuration" }: SchemaFormProps) {
  const id = useId();
  const [mode, setMode] = useState<"form" | "json">("form");
  const [text, setText] = useState(() => JSON.stringify(value, null, 2));
  const [jsonError, setJsonError] = useState<string>();

  function switchMode(next: string) {
    if (next === "form" && jsonError) return; // fix the JSON first
    if (next === "json") {
      setText(JSON.stringify(value, null, 2));
      setJsonError(undefined);
    }
    setMode(next as "form" | "json");
  }

  function editText(t: string) {
    setText(t);
    try {
      const parsed: unknown = JSON.parse(t);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
        setJsonError("The configuration must be a JSON object ({ … }).");
        return;
      }
      setJsonError(undefined);
      onChange(parsed as Obj);
    } catch (e) {
      setJsonError(`Invalid JSON: ${(e as Error).message}`);
    }
  }

  const root = deref(schema, schema);
  // Errors for paths no input draws (the whole config, unknown keys, list items) are folded
  // onto the nearest input, or listed above the form.
  const { byField, other } = foldErrors(errors, fieldPaths(schema));
  return (
    <Tabs.Root value={mode} onValueChange={switchMode} className="schema-form">
      <Tabs.List aria-label={`${label} editor mode`} className="segmented">
        <Tabs.Trigger value="form" className="segmented-item" disabled={mode === "json" && Boolean(jsonError)}>
          Form
        </Tabs.Trigger>
        <Tabs.Trigger value="json" className="segmented-item">
          JSON
        </Tabs.Trigger>
      </Tabs.List>
      {other.length > 0 && (
        <div className="form-error" role="alert">
          {other.length === 1 ? (
            other[0]
          ) : (
            <ul>
              {other.map((o) => (
                <li key={o}>{o}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <Tabs.Content value="form" className="form">
        <ObjectFields schema={root} root={schema} value={value} onChange={onChange} errors={byField} path="" idPrefix={id} />
      </Tabs.Content>
      <Tabs.Content value="json" className="form">
        <div className="field">
          <label htmlFor={`${id}-json`}>{label} (JSON)</label>
          <textarea
            id={`${id}-json`}
            rows={12}
            spellCheck={false}
            value={text}
            onChange={(e) => editText(e.target.value)}
            aria-invalid={jsonError ? true : undefined}
            aria-describedby={jsonError ? `${id}-json-err` : undefined}
          />
          {jsonError && (
            <p className="field-error" id={`${id}-json-err`} role="alert">
              {jsonError}
            </p>
          )}
          <p className="hint">Keys the form does not show are kept as they are.</p>
        </div>
      </Tabs.Content>
    </Tabs.Root>
  );
}

interface FieldsProps {
  schema: JsonSchema;
  root: JsonSchema;
  value: Obj;
  onChange(v: Obj): void;
  errors: Record<string, string>;
  path: string;
  idPrefix: string;
}

function ObjectFields({ schema, root, value, onChange, errors, path, idPrefix }: FieldsProps) {
  const required = new Set(schema.required ?? []);
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([key, sub]) => {
        const p = path ? `${path}.${key}` : key;
        return (
          <SchemaField
            key={key}
            name={key}
            schema={sub}
            root={root}
            required={required.has(key)}
            value={value[key]}
            onChange={(v) => {
              const next = { ...value };
              if (v === undefined) delete next[key];
              else next[key] = v;
              onChange(next);
            }}
            errors={errors}
            path={p}
            id={`${idPrefix}-${p.replace(/[^a-zA-Z0-9_-]/g, "_")}`}
            idPrefix={idPrefix}
          />
        );
      })}
    </>
  );
}

interface FieldProps {
  name: string;
  schema: JsonSchema;
  root: JsonSchema;
  required: boolean;
  value: unknown;
  onChange(v: unknown): void;
  errors: Record<string, string>;
  path: string;
  id: string;
  idPrefix: string;
}

function SchemaField({ name, schema: raw, root, required, value, onChange, errors, path, id, idPrefix }: FieldProps) {
  const s = mainType(deref(raw, root), root).schema;
  const kind = fieldKind(raw, root);
  const label = labelFor(name, s);
  const error = errors[path];
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  const described = [s.description ? hintId : "", error ? errId : ""].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": described,
    "aria-required": required || undefined,
  } as const;
  const labelEl = (
    <label htmlFor={id}>
      {label}
      {required && <span aria-hidden="true"> *</span>}
    </label>
  );
  const masked = isSecret(s) && containsMask(value);
  const after = (
    <>
      {masked && <p className="hint">Stored secret (shown as {SECRET_MASK}): leave it to keep it, or type a new value.</p>}
      {s.description && (
        <p className="hint" id={hintId}>
          {s.description}
        </p>
      )}
      {error && (
        <p className="field-error" id={errId} role="alert">
          {error}
        </p>
      )}
    </>
  );

  switch (kind) {
    case "object":
      return (
        <fieldset aria-describedby={described}>
          <legend>{label}</legend>
          <ObjectFields
            schema={s}
            root={root}
            value={value && typeof value === "object" && !Array.isArray(value) ? (value as Obj) : {}}
            onChange={(v) => onChange(Object.keys(v).length ? v : undefined)}
            errors={errors}
            path={path}
            idPrefix={idPrefix}
          />
          {after}
        </fieldset>
      );
    case "boolean":
      return (
        <div className="field">
          <label className="checkbox">
            <input
              type="checkbox"
              {...common}
              checked={value === true}
              onChange={(e) => onChange(e.target.checked)}
            />{" "}
            {label}
          </label>
          {after}
        </div>
      );
    case "enum":
      return (
        <div className="field">
          {labelEl}
          <select
            {...common}
            value={value === undefined || value === null ? "" : String(value)}
            onChange={(e) => {
              const hit = s.enum!.find((o) => String(o) === e.target.value);
              onChange(e.target.value === "" ? undefined : hit);
            }}
          >
            <option value="">{required ? "Choose…" : "(not set)"}</option>
            {s.enum!.map((o) => (
              <option key={String(o)} value={String(o)}>
                {String(o)}
              </option>
            ))}
          </select>
          {after}
        </div>
      );
    case "integer":
    case "number":
      return (
        <div className="field">
          {labelEl}
          <input
            type="number"
            {...common}
            step={kind === "integer" ? 1 : "any"}
            min={s.minimum}
            max={s.maximum}
            placeholder={typeof s.default === "number" ? String(s.default) : undefined}
            value={typeof value === "number" ? value : value === undefined || value === null ? "" : String(value)}
            onChange={(e) => {
              if (e.target.value === "") return onChange(undefined);
              const n = Number(e.target.value);
              onChange(Number.isNaN(n) ? e.target.value : n);
            }}
          />
          {after}
        </div>
      );
    case "string-list":
      return (
        <div className="field">
          {labelEl}
          <StringListInput common={common} value={value} onChange={onChange} />
          <p className="hint">One per line.</p>
          {after}
        </div>
      );
    case "json":
      return (
        <div className="field">
          {labelEl}
          <JsonInput common={common} value={value} onChange={onChange} />
          {after}
        </div>
      );
    case "secret":
      return (
        <div className="field">
          {labelEl}
          <SecretInput common={common} value={value} onChange={onChange} label={label} />
          {after}
        </div>
      );
    case "text":
    case "string":
    default: {
      const v = value === undefined || value === null ? "" : String(value);
      const set = (t: string) => onChange(t === "" ? undefined : t);
      return (
        <div className="field">
          {labelEl}
          {kind === "text" ? (
            <textarea {...common} rows={4} value={v} onChange={(e) => set(e.target.value)} />
          ) : (
            <input
              type={s.format === "uri" || s.format === "url" ? "url" : s.format === "email" ? "email" : "text"}
              {...common}
              placeholder={typeof s.default === "string" ? s.default : undefined}
              value={v}
              onChange={(e) => set(e.target.value)}
            />
          )}
          {after}
        </div>
      );
    }
  }
}

type Common = Record<string, unknown> & { id: string };

function containsMask(value: unknown): boolean {
  if (value === SECRET_MASK) return true;
  if (Array.isArray(value)) return value.some(containsMask);
  if (value && typeof value === "object") return Object.values(value).some(containsMask);
  return false;
}

function SecretInput({
  common,
  value,
  onChange,
  label,
}: {
  common: Common;
  value: unknown;
  onChange(v: unknown): void;
  label: string;
}) {
  const [shown, setShown] = useState(false);
  return (
    <span className="secret-input">
      <input
        {...common}
        type={shown ? "text" : "password"}
        autoComplete="off"
        value={typeof value === "string" ? value : ""}
        onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
      />
      <button
        type="button"
        className="btn btn-small"
        aria-pressed={shown}
        aria-label={`Show ${label}`}
        onClick={() => setShown(!shown)}
      >
        {shown ? "Hide" : "Show"}
      </button>
    </span>
  );
}

function StringListInput({ common, value, onChange }: { common: Common; value: unknown; onChange(v: unknown): void }) {
  const list = Array.isArray(value) ? value.map(String) : [];
  const joined = list.join("\n");
  const [text, setText] = useState(joined);
  // Follow outside changes (raw JSON mode) without fighting the user's typing.
  useEffect(() => {
    setText((t) => (t.split("\n").filter((l) => l.trim() !== "").join("\n") === joined ? t : joined));
  }, [joined]);
  return (
    <textarea
      {...common}
      rows={3}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        const items = e.target.value
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l !== "");
        onChange(items.length ? items : undefined);
      }}
    />
  );
}

function JsonInput({ common, value, onChange }: { common: Common; value: unknown; onChange(v: unknown): void }) {
  const [text, setText] = useState(() => (value === undefined ? "" : JSON.stringify(value, null, 2)));
  const [err, setErr] = useState<string>();
  return (
    <>
      <textarea
        {...common}
        rows={4}
        spellCheck={false}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === "") {
            setErr(undefined);
            return onChange(undefined);
          }
          try {
            onChange(JSON.parse(e.target.value));
            setErr(undefined);
          } catch {
            setErr("Not valid JSON yet.");
          }
        }}
      />
      {err && <p className="field-error">{err}</p>}
    </>
  );
}
