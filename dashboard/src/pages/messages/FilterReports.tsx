import { Link } from "react-router";
import type { FilterReport } from "../../api/types";
import { Section } from "../../components/Section";

/** `filter_errors` items sorted by what they mean for the user. */
export interface SortedFilterReports {
  /** Filters that failed (`error`); the rule was treated as not matching. */
  failed: FilterReport[];
  /** Filters that decided not to pass the message and said why (`note`, no `error`, not matched). */
  heldBack: FilterReport[];
  /** Filters that let the message through with a remark (`note`, matched), e.g. a rate limit failing open. */
  passedWithNote: FilterReport[];
  /** Items of a shape this dashboard does not know (shown as JSON). */
  other: unknown[];
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** Sort the message's `filter_errors` into failures, held-back notes and remarks. */
export function sortFilterReports(items: readonly unknown[]): SortedFilterReports {
  const out: SortedFilterReports = { failed: [], heldBack: [], passedWithNote: [], other: [] };
  for (const item of items) {
    const v = (item && typeof item === "object" && !Array.isArray(item) ? item : {}) as Record<string, unknown>;
    const error = str(v.error);
    const note = str(v.note);
    if (error === undefined && note === undefined) {
      out.other.push(item);
      continue;
    }
    const report: FilterReport = {
      rule_id: str(v.rule_id) ?? "",
      rule_name: str(v.rule_name) ?? "",
      matched: v.matched === true,
      ...(error !== undefined ? { error } : {}),
      ...(note !== undefined ? { note } : {}),
    };
    if (error !== undefined) out.failed.push(report);
    else if (report.matched) out.passedWithNote.push(report);
    else out.heldBack.push(report);
  }
  return out;
}

function RuleRef({ report }: { report: FilterReport }) {
  const name = report.rule_name || "A rule";
  return report.rule_id ? (
    <Link to={`/rules/${encodeURIComponent(report.rule_id)}`} className="strong">
      {name}
    </Link>
  ) : (
    <span className="strong">{name}</span>
  );
}

function ReportList({ label, reports, text }: { label: string; reports: FilterReport[]; text(r: FilterReport): string }) {
  return (
    <ul className="filter-errors" aria-label={label}>
      {reports.map((r, i) => (
        <li key={i}>
          <RuleRef report={r} />: {text(r)}
        </li>
      ))}
    </ul>
  );
}

/**
 * What the rules' filters reported for a message, in up to three labelled
 * sections: failures, filters that held the message back (with their reason)
 * and remarks of filters that let it through. Everything is plain text.
 */
export function FilterReports({ items }: { items: readonly unknown[] }) {
  const { failed, heldBack, passedWithNote, other } = sortFilterReports(items);
  const failedCount = failed.length + other.length;
  return (
    <>
      {failedCount > 0 && (
        <Section title={`Filter errors (${failedCount})`} defaultOpen>
          <p className="hint">These rule filters failed for this message, so their rules were treated as not matching.</p>
          <ul className="filter-errors" aria-label="Filter errors">
            {failed.map((r, i) => (
              <li key={`f${i}`}>
                <RuleRef report={r} />: {r.error}
                {r.note ? ` (${r.note})` : ""}
              </li>
            ))}
            {other.map((e, i) => (
              <li key={`o${i}`}>
                <pre className="code">{JSON.stringify(e, null, 2)}</pre>
              </li>
            ))}
          </ul>
        </Section>
      )}
      {heldBack.length > 0 && (
        <Section title={`Held back by filters (${heldBack.length})`} defaultOpen>
          <p className="hint">
            These rules did not deliver this message because one of their filters held it back on purpose, for the reason
            given.
          </p>
          <ReportList label="Held back by filters" reports={heldBack} text={(r) => r.note ?? ""} />
        </Section>
      )}
      {passedWithNote.length > 0 && (
        <Section title={`Filter notes (${passedWithNote.length})`} defaultOpen>
          <p className="hint">These filters let the message through and noted something.</p>
          <ReportList label="Filter notes" reports={passedWithNote} text={(r) => r.note ?? ""} />
        </Section>
      )}
    </>
  );
}
