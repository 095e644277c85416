import type { FieldValues, Path, UseFormSetError } from "react-hook-form";
import { ApiError, errorMessage } from "../api/client";

/**
 * Put an API error where the user will look: next to the input the API named
 * in `field` when the form has it, otherwise as a form-level error
 * (`errors.root.server`).
 */
export function applyApiError<T extends FieldValues>(
  err: unknown,
  setError: UseFormSetError<T>,
  fields: readonly Path<T>[],
): void {
  if (err instanceof ApiError && err.field) {
    // The API names JSON paths; our inputs use the same names. "/a/b" and "a.b" both map.
    const name = normalizeApiField(err.field) as Path<T>;
    if (fields.includes(name)) {
      setError(name, { type: "server", message: err.message }, { shouldFocus: true });
      return;
    }
  }
  setError("root.server" as Path<T>, { type: "server", message: errorMessage(err) });
}

/**
 * An API `field` as a dotted path: JSON pointers ("/a/b/0"), bracketed indexes
 * ("a.b[0]") and a leading "$." all become "a.b.0".
 */
export function normalizeApiField(field: string): string {
  return field
    .trim()
    .replace(/^\$\.?/, "")
    .replace(/^\//, "")
    .replace(/\//g, ".")
    .replace(/\[(\d+)\]/g, ".$1")
    .replace(/^\./, "");
}

/**
 * Split a normalised API field under `prefix` ("config"): "config.a.b" → "a.b",
 * "config" → "" (the whole value), anything else → undefined.
 */
export function fieldUnder(field: string, prefix: string): string | undefined {
  if (field === prefix) return "";
  return field.startsWith(`${prefix}.`) ? field.slice(prefix.length + 1) : undefined;
}
