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
    const name = err.field.replace(/^\//, "").replace(/\//g, ".") as Path<T>;
    if (fields.includes(name)) {
      setError(name, { type: "server", message: err.message }, { shouldFocus: true });
      return;
    }
  }
  setError("root.server" as Path<T>, { type: "server", message: errorMessage(err) });
}
