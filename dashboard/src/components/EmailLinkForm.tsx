import { zodResolver } from "@hookform/resolvers/zod";
import { useState, type ReactNode } from "react";
import { useForm } from "react-hook-form";
import { applyApiError } from "../lib/forms";
import { emailOnlySchema, type EmailOnlyValues } from "../lib/schemas";
import { Field, FormError } from "./Field";

interface Props {
  /** Mails the link; its errors go next to the input (`field: "email"`) or above the form. */
  send(email: string): Promise<unknown>;
  /** What the form says above the input. */
  intro: ReactNode;
  /** The submit button's text (it says *Sending…* meanwhile). */
  submitLabel: string;
  /** The form's accessible name, when the page has more than one thing going on. */
  label?: string;
  /**
   * Replaces the form once the server took the request; worded with "if", as the
   * server does not say whether the address has an account.
   */
  sentMessage(email: string): ReactNode;
}

/**
 * Asks for an e-mail address and has the server mail a link to it (a
 * password reset, a new verification link), then says so in place. Works
 * signed out; the address is checked in the browser first.
 */
export function EmailLinkForm({ send, intro, submitLabel, label, sentMessage }: Props) {
  const [sentTo, setSentTo] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<EmailOnlyValues>({ resolver: zodResolver(emailOnlySchema), defaultValues: { email: "" } });

  const onSubmit = handleSubmit(async ({ email }) => {
    try {
      await send(email);
      setSentTo(email);
    } catch (err) {
      applyApiError(err, setError, ["email"]);
    }
  });

  if (sentTo) {
    return (
      <p role="status" className="notice">
        {sentMessage(sentTo)}
      </p>
    );
  }
  return (
    <form onSubmit={onSubmit} noValidate className="form" aria-label={label}>
      <p>{intro}</p>
      <FormError message={errors.root?.server?.message} />
      <Field label="E-mail" type="email" autoComplete="email" error={errors.email} {...register("email")} />
      <button type="submit" className="btn btn-primary btn-block" disabled={isSubmitting}>
        {isSubmitting ? "Sending…" : submitLabel}
      </button>
    </form>
  );
}
