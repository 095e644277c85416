import { CopyButton } from "../../components/CopyButton";
import { placeholderFor, TEMPLATE_VARIABLES } from "./variables";

/** The variables a rule template may use, each with an insert (or copy) button. */
export function TemplateVariableList({ onInsert }: { onInsert?: (placeholder: string) => void }) {
  return (
    <ul className="var-list" aria-label="Template variables">
      {TEMPLATE_VARIABLES.map((v) => {
        const ph = placeholderFor(v);
        return (
          <li key={v.path}>
            <span>
              <code>{ph}</code>{" "}
              {onInsert ? (
                <button
                  type="button"
                  className="btn btn-small"
                  onClick={() => onInsert(ph)}
                  aria-label={`Insert ${ph}`}
                >
                  Insert
                </button>
              ) : (
                <CopyButton text={ph} label={`Copy ${ph}`} />
              )}
            </span>
            <span className="muted">{v.description}</span>
          </li>
        );
      })}
    </ul>
  );
}
