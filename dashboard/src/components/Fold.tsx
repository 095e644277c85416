import { useId, useState, type ReactNode } from "react";

/** Where long forms fold their parts away (keep in step with the 760 px block of app.css). */
export const NARROW_SCREEN = "(max-width: 760px)";

/** Whether the screen is narrow now (false where matchMedia is missing, e.g. jsdom). */
export function isNarrowScreen(): boolean {
  return typeof window !== "undefined" && (window.matchMedia?.(NARROW_SCREEN).matches ?? false);
}

export interface Fold {
  open: boolean;
  toggle(): void;
  /** Id of the folding content (`aria-controls`). */
  bodyId: string;
  /** Id of the plain title: name the group or region by it (`aria-labelledby`). */
  titleId: string;
}

/**
 * A part of a long form that folds away on narrow screens (CSS, ≤ 760 px) behind a
 * button with its title and a one-line summary of what is inside. Wide screens
 * always show the content and the plain title; the button is hidden there, so the
 * state only matters on narrow ones.
 *
 * `reveal` unfolds it when the form moves focus to an error: pass a value that
 * changes with every such request (a counter) and whether an input in here is
 * invalid. (State is adjusted while rendering, so the content is shown by the
 * time the form's focus effect runs.)
 */
export function useFold(defaultOpen: boolean, reveal?: { key: unknown; invalid: boolean }): Fold {
  const id = useId();
  const [open, setOpen] = useState(defaultOpen);
  const [seenKey, setSeenKey] = useState(reveal?.key);
  if (reveal && reveal.key !== seenKey) {
    setSeenKey(reveal.key);
    if (reveal.invalid) setOpen(true);
  }
  return { open, toggle: () => setOpen((o) => !o), bodyId: `${id}-body`, titleId: `${id}-title` };
}

/**
 * The title of a folding part, to put in its `<legend>` or heading: the toggle
 * button (narrow screens) and the plain title (wide screens).
 */
export function FoldTitle({ fold, title, summary }: { fold: Fold; title: string; summary?: ReactNode }) {
  return (
    <>
      <button type="button" className="fold-toggle" aria-expanded={fold.open} aria-controls={fold.bodyId} onClick={fold.toggle}>
        <span aria-hidden="true" className="chevron">
          {fold.open ? "▾" : "▸"}
        </span>
        <span className="fold-title">{title}</span>
        {/* The space keeps title and summary apart in the button's accessible name. */}
        {summary != null && (
          <>
            {" "}
            <span className="fold-summary">{summary}</span>
          </>
        )}
      </button>
      <span className="fold-static" id={fold.titleId}>
        {title}
      </span>
    </>
  );
}

/** The content of a folding part (hidden on narrow screens while folded). */
export function FoldBody({ fold, children }: { fold: Fold; children: ReactNode }) {
  return (
    <div className="fold-body" id={fold.bodyId} data-folded={fold.open ? undefined : true}>
      {children}
    </div>
  );
}
