import { useEffect, useState } from "react";

/** Copies `text` to the clipboard and says so (politely, for screen readers too). */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const t = setTimeout(() => setState("idle"), 2000);
    return () => clearTimeout(t);
  }, [state]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
  }

  return (
    <button type="button" className="btn btn-small" onClick={copy} aria-label={`${label} to clipboard`}>
      <span aria-live="polite">{state === "copied" ? "Copied" : state === "failed" ? "Copy failed — select and copy" : label}</span>
    </button>
  );
}

/** A read-only value with its copy button; the value is selectable as plain text. */
export function CopyValue({ label, value, multiline }: { label: string; value: string; multiline?: boolean }) {
  return (
    <div className="copy-value">
      <div className="copy-value-head">
        <span className="copy-value-label">{label}</span>
        <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />
      </div>
      {multiline ? <pre className="code">{value}</pre> : <code className="code">{value}</code>}
    </div>
  );
}
