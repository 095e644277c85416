import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";
import { useState } from "react";
import { Link, Navigate } from "react-router";
import { useMutation } from "@tanstack/react-query";
import { authApi } from "../api/endpoints";
import { useAuth } from "../auth/AuthProvider";
import { Loading } from "../components/bits";
import { Field, FormError } from "../components/Field";
import { applyApiError } from "../lib/forms";
import { signupSchema, type SignupValues } from "../lib/schemas";
import { errorMessage } from "../api/client";

/**
 * Sign-up. Not behind `AnonymousOnly`: it signs the new user in and must then
 * stay to say where the link went, so it sends signed-in users home itself —
 * unless they have just signed up here (`created` is set before the log-in
 * starts, so no render can see the session without it).
 */
export function SignupPage() {
  const { login, status } = useAuth();
  const [created, setCreated] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<SignupValues>({
    resolver: zodResolver(signupSchema),
    defaultValues: { email: "", password: "", confirm_password: "" },
  });

  const onSubmit = handleSubmit(async ({ email, password }) => {
    try {
      await authApi.signup({ email, password });
    } catch (err) {
      applyApiError(err, setError, ["email", "password"]);
      return;
    }
    setCreated(email);
    // Sign straight in; the verification banner tells the user what is next.
    await login(email, password).catch(() => undefined);
  });

  if (created) return <CheckInbox email={created} />;
  if (status === "loading") return <Loading />;
  if (status === "authenticated") return <Navigate to="/" replace />;

  return (
    <>
      <h1>Create an account</h1>
      <form onSubmit={onSubmit} noValidate className="form">
        <FormError message={errors.root?.server?.message} />
        <Field label="E-mail" type="email" autoComplete="email" error={errors.email} {...register("email")} />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="At least 8 characters."
          error={errors.password}
          {...register("password")}
        />
        <Field
          label="Repeat password"
          type="password"
          autoComplete="new-password"
          error={errors.confirm_password}
          {...register("confirm_password")}
        />
        <button type="submit" className="btn btn-primary btn-block" disabled={isSubmitting}>
          {isSubmitting ? "Creating…" : "Sign up"}
        </button>
      </form>
      <p className="auth-links">
        <span>
          Already have an account? <Link to="/login">Log in</Link>
        </span>
      </p>
    </>
  );
}

/** Where the verification link went, with a resend. */
function CheckInbox({ email }: { email: string }) {
  const { status } = useAuth();
  const resend = useMutation({
    mutationFn: () => (status === "authenticated" ? authApi.resendVerification() : authApi.resendVerification(email)),
  });
  return (
    <>
      <h1>Check your inbox</h1>
      <p>
        We sent a verification link to <strong className="break">{email}</strong>. Open it to start creating endpoints.
      </p>
      <p>
        <button type="button" className="btn" onClick={() => resend.mutate()} disabled={resend.isPending}>
          Resend the e-mail
        </button>{" "}
        <span aria-live="polite">
          {resend.isSuccess && "Sent."}
          {resend.isError && errorMessage(resend.error)}
        </span>
      </p>
      <p>
        {status === "authenticated" ? <Link to="/">Continue to the dashboard</Link> : <Link to="/login">Log in</Link>}
      </p>
    </>
  );
}
