import { useId, useRef } from "react";
import { FoldBody, FoldTitle, isNarrowScreen, useFold } from "../../components/Fold";
import { Section } from "../../components/Section";
import { TemplateVariableList } from "../../features/templates/TemplateVariableList";
import { parseJsonObject, templateWarnings } from "./ruleDraft";

interface Props {
  value: string;
  onChange(v: string): void;
  error?: string;
  /** Changes whenever the form moves focus to its first error: unfolds the payload (narrow screens) if it has one. */
  reveal?: unknown;
}

/** What the folded payload says about itself: the keys it sends, or that it needs fixing. */
function payloadSummary(value: string, warnings: number): string {
  const tpl = parseJsonObject(value);
  if (!tpl.ok) return "not a JSON object";
  const keys = Object.keys(tpl.value);
  const what = keys.length ? keys.join(", ") : "empty object";
  return warnings ? `${what} · ${warnings === 1 ? "1 warning" : `${warnings} warnings`}` : what;
}

/** The payload template as JSON text, with the variable list inserting `{{…}}` at the cursor. */
export function TemplateEditor({ value, onChange, error, reveal }: Props) {
  const id = useId();
  const ref = useRef<HTMLTextAreaElement>(null);
  const warnings = templateWarnings(value);
  // Narrow screens: folded at first (the default template suits most rules), and so is the long variable list.
  const fold = useFold(false, { key: reveal, invalid: Boolean(error) });

  function insert(placeholder: string) {
    const el = ref.current;
    const start = el?.selectionStart ?? value.length;
    const end = el?.selectionEnd ?? start;
    onChange(value.slice(0, start) + placeholder + value.slice(end));
    // Put the caret after the inserted text once React has rendered the new value.
    requestAnimationFrame(() => {
      if (!el) return;
      el.focus();
      const at = start + placeholder.length;
      el.setSelectionRange(at, at);
    });
  }

  return (
    <fieldset className="template-editor fold" aria-labelledby={fold.titleId}>
      <legend>
        <FoldTitle fold={fold} title="Payload" summary={payloadSummary(value, warnings.length)} />
      </legend>
      <FoldBody fold={fold}>
        <div className="field">
          <label htmlFor={`${id}-tpl`}>Payload template (JSON)</label>
          <textarea
            id={`${id}-tpl`}
            ref={ref}
            rows={8}
            spellCheck={false}
            value={value}
            onChange={(e) => onChange(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={[`${id}-tpl-hint`, error ? `${id}-tpl-err` : ""].filter(Boolean).join(" ")}
          />
          <p className="hint" id={`${id}-tpl-hint`}>
            A JSON object sent to the channel. <code>{"{{variable}}"}</code> placeholders in any string are replaced; missing
            values become empty text. For Bark: <code>title</code>, <code>subtitle</code>, <code>body</code>,{" "}
            <code>level</code>, <code>sound</code>, <code>group</code>, <code>url</code>, … — an empty body or title is filled
            from the message.
          </p>
          {error && (
            <p className="field-error" id={`${id}-tpl-err`} role="alert">
              {error}
            </p>
          )}
          {warnings.length > 0 && (
            <ul className="warnings" aria-label="Template warnings">
              {warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
        </div>
        <Section title="Variables" level={3} defaultOpen={!isNarrowScreen()}>
          <p className="hint">Insert puts the placeholder at the cursor — place the cursor inside a JSON string first.</p>
          <TemplateVariableList onInsert={insert} />
        </Section>
      </FoldBody>
    </fieldset>
  );
}
