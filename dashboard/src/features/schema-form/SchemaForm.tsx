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

/**
 * Properties in the order a person fills them in: required ones first, in the
 * order of `required` (schemars lists them as declared, while it sorts
 * `properties` by name), then optional single inputs, then optional groups
 * (nested objects, maps, JSON); otherwise the schema's order.
 */
export function orderedProperties(schema: JsonSchema, root: JsonSchema): [string, JsonSchema][] {
  const required = schema.required ?? [];
  const rank = ([key, sub]: [string, JsonSchema]) => {
    if (required.includes(key)) return 0;
    const kind = fieldKind(sub, root);
    return kind === "object" || kind === "string-map" || kind === "json" ? 2 : 1;
  };
  return Object.entries(schema.properties ?? {})
    .map((entry, i) => ({ entry, r: rank(entry), i: required.includes(entry[0]) ? required.indexOf(entry[0]) : i }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.entry);
}

function ObjectFields({ schema, root, value, onChange, errors, path, idPrefix }: FieldsProps) {
  const required = new Set(schema.required ?? []);
  return (
    <>
      {orderedProperties(schema, root).map(([key, sub]) => {
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
    case "object": {
      // An optional group with required settings inside (e.g. Bark's encryption): say that it can stay empty.
      const optionalGroup = !required && (s.required?.length ?? 0) > 0;
      return (
        <fieldset aria-describedby={[optionalGroup ? `${id}-optional` : "", described].filter(Boolean).join(" ") || undefined}>
          <legend>
            {label}
            {required && <span aria-hidden="true"> *</span>}
          </legend>
          {optionalGroup && (
            <p className="hint" id={`${id}-optional`}>
              Optional: leave all of it empty to go without. Once you fill in any of it, the settings marked * are needed.
            </p>
          )}
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
    }
    case "boolean":
      return (
        <div className="field">
          <label className="checkbox">
            <input
              type="checkbox"
              {...common}
              checked={value === true || (value === undefined && s.default === true)}
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
            <option value="">
              {required ? "Choose…" : isScalarValue(s.default) ? `Default (${String(s.default)})` : "(not set)"}
            </option>
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
            placeholder={placeholderOf(s, "number")}
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
    case "secret-list":
      return (
        <div className="field">
          {labelEl}
          <SecretListInput common={common} value={value} onChange={onChange} label={label} />
          {after}
        </div>
      );
    case "enum-list": {
      const items = mainType(deref(s.items, root), root).schema;
      return (
        <fieldset id={id} aria-describedby={described} aria-invalid={error ? true : undefined} className="choice-group">
          <legend>
            {label}
            {required && <span aria-hidden="true"> *</span>}
          </legend>
          <EnumListInput options={items.enum as (string | number)[]} value={value} onChange={onChange} idPrefix={id} />
          {after}
        </fieldset>
      );
    }
    case "string-map":
      return (
        <fieldset id={id} aria-describedby={described} aria-invalid={error ? true : undefined}>
          <legend>
            {label}
            {required && <span aria-hidden="true"> *</span>}
          </legend>
          <StringMapInput
            value={value}
            onChange={onChange}
            label={label}
            secret={isSecret(s) || (typeof s.additionalProperties === "object" && isSecret(deref(s.additionalProperties, root)))}
          />
          {after}
        </fieldset>
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
              placeholder={placeholderOf(s, "string")}
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

function isScalarValue(v: unknown): v is string | number | boolean {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}

/** A hint inside an empty input: the default (what leaving it empty means), else the first example. */
function placeholderOf(s: JsonSchema, kind: "string" | "number"): string | undefined {
  const fits = (v: unknown) => (kind === "number" ? typeof v === "number" : typeof v === "string" && v !== "");
  if (fits(s.default)) return String(s.default);
  const example = s.examples?.find(fits);
  return example === undefined ? undefined : `e.g. ${String(example)}`;
}

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

/** One password input per secret (e.g. device keys), with add/remove; empty rows are not sent. */
function SecretListInput({
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
  const list = Array.isArray(value) ? value.map(String) : [];
  const [rows, setRows] = useState<string[]>(() => (list.length ? list : [""]));
  const joined = JSON.stringify(list);
  // Follow outside changes (raw JSON mode) without dropping the empty row being typed into.
  useEffect(() => {
    setRows((r) => {
      if (JSON.stringify(r.filter((x) => x !== "")) === joined) return r;
      const next = JSON.parse(joined) as string[];
      return next.length ? next : [""];
    });
  }, [joined]);
  const set = (next: string[]) => {
    setRows(next);
    const items = next.filter((x) => x !== "");
    onChange(items.length ? items : undefined);
  };
  return (
    <div className="list-input">
      {rows.map((row, i) => (
        <div key={i} className="list-row">
          <SecretInput
            common={i === 0 ? common : { id: `${common.id}-${i}`, "aria-label": `${label} ${i + 1}` }}
            value={row === "" ? undefined : row}
            onChange={(v) => set(rows.map((x, j) => (j === i ? (typeof v === "string" ? v : "") : x)))}
            label={rows.length > 1 ? `${label} ${i + 1}` : label}
          />
          {rows.length > 1 && (
            <button
              type="button"
              className="btn btn-small"
              aria-label={`Remove ${label} ${i + 1}`}
              onClick={() => set(rows.filter((_, j) => j !== i))}
            >
              Remove
            </button>
          )}
        </div>
      ))}
      <div>
        <button type="button" className="btn btn-small" aria-label={`Add to ${label}`} onClick={() => setRows([...rows, ""])}>
          Add another
        </button>
      </div>
    </div>
  );
}

/** Checkboxes for a list of enum values (e.g. weekdays), sent in the schema's order. */
function EnumListInput({
  options,
  value,
  onChange,
  idPrefix,
}: {
  options: (string | number)[];
  value: unknown;
  onChange(v: unknown): void;
  idPrefix: string;
}) {
  const chosen = new Set(Array.isArray(value) ? value : []);
  return (
    <div className="choices">
      {options.map((o) => (
        <label key={String(o)} className="checkbox">
          <input
            type="checkbox"
            id={`${idPrefix}-${String(o).replace(/[^a-zA-Z0-9_-]/g, "_")}`}
            checked={chosen.has(o)}
            onChange={(e) => {
              const next = new Set(chosen);
              if (e.target.checked) next.add(o);
              else next.delete(o);
              const list = options.filter((x) => next.has(x));
              onChange(list.length ? list : undefined);
            }}
          />{" "}
          {String(o)}
        </label>
      ))}
    </div>
  );
}

type MapRow = { key: string; value: string };

/** Name/value rows for a map of strings (e.g. HTTP headers); values are password inputs when secret. */
function StringMapInput({
  value,
  onChange,
  label,
  secret,
}: {
  value: unknown;
  onChange(v: unknown): void;
  label: string;
  secret: boolean;
}) {
  const uid = useId();
  const obj = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const fromValue = (): MapRow[] => Object.entries(obj).map(([key, v]) => ({ key, value: typeof v === "string" ? v : JSON.stringify(v) }));
  const [rows, setRows] = useState<MapRow[]>(fromValue);
  const joined = JSON.stringify(obj);
  const toObject = (r: MapRow[]) => Object.fromEntries(r.filter((x) => x.key.trim() !== "").map((x) => [x.key.trim(), x.value]));
  useEffect(() => {
    setRows((r) => (JSON.stringify(toObject(r)) === joined ? r : fromValue()));
    // eslint-disable-next-line react-hooks/exhaustive-deps -- follows the serialised value only
  }, [joined]);
  const set = (next: MapRow[]) => {
    setRows(next);
    const o = toObject(next);
    onChange(Object.keys(o).length ? o : undefined);
  };
  return (
    <div className="list-input">
      {rows.length === 0 && <p className="muted">None.</p>}
      {rows.map((row, i) => (
        <div key={i} className="list-row map-row">
          <input
            type="text"
            aria-label={`${label} ${i + 1} name`}
            placeholder="Name"
            autoComplete="off"
            value={row.key}
            onChange={(e) => set(rows.map((x, j) => (j === i ? { ...x, key: e.target.value } : x)))}
          />
          {secret ? (
            <SecretInput
              common={{ id: `${uid}-${i}-v`, "aria-label": `${label} ${i + 1} value`, placeholder: "Value" }}
              value={row.value === "" ? undefined : row.value}
              onChange={(v) => set(rows.map((x, j) => (j === i ? { ...x, value: typeof v === "string" ? v : "" } : x)))}
              label={`${label} ${i + 1} value`}
            />
          ) : (
            <input
              type="text"
              aria-label={`${label} ${i + 1} value`}
              placeholder="Value"
              autoComplete="off"
              value={row.value}
              onChange={(e) => set(rows.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))}
            />
          )}
          <button
            type="button"
            className="btn btn-small"
            aria-label={`Remove ${label} ${i + 1}`}
            onClick={() => set(rows.filter((_, j) => j !== i))}
          >
            Remove
          </button>
        </div>
      ))}
      <div>
        <button type="button" className="btn btn-small" aria-label={`Add to ${label}`} onClick={() => setRows([...rows, { key: "", value: "" }])}>
          Add entry
        </button>
      </div>
    </div>
  );
}
