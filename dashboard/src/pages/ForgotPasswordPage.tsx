import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { Link } from "react-router";
import { authApi } from "../api/endpoints";
import { Field, FormError } from "../components/Field";
import { applyApiError } from "../lib/forms";
import { forgotSchema, type ForgotValues } from "../lib/schemas";

export function ForgotPasswordPage() {
  const [sentTo, setSentTo] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<ForgotValues>({ resolver: zodResolver(forgotSchema), defaultValues: { email: "" } });

  const onSubmit = handleSubmit(async ({ email }) => {
    try {
      await authApi.forgotPassword(email);
      setSentTo(email);
    } catch (err) {
      applyApiError(err, setError, ["email"]);
    }
  });

  return (
    <>
      <h1>Reset your password</h1>
      {sentTo ? (
        <p role="status" className="notice">
          If an account exists for <strong>{sentTo}</strong>, we sent it a link to choose a new password. The link
          works for one hour.
        </p>
      ) : (
        <form onSubmit={onSubmit} noValidate className="form">
          <p>Enter your account's e-mail address and we will send you a reset link.</p>
          <FormError message={errors.root?.server?.message} />
          <Field label="E-mail" type="email" autoComplete="email" error={errors.email} {...register("email")} />
          <button type="submit" className="btn btn-primary btn-block" disabled={isSubmitting}>
            {isSubmitting ? "Sending…" : "Send reset link"}
          </button>
        </form>
      )}
      <p className="auth-links">
        <Link to="/login">Back to log in</Link>
      </p>
    </>
  );
}
