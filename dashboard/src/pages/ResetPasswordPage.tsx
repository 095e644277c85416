import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";
import { Link, useNavigate, useSearchParams } from "react-router";
import { authApi } from "../api/endpoints";
import { Field, FormError } from "../components/Field";
import { applyApiError } from "../lib/forms";
import { resetSchema, type ResetValues } from "../lib/schemas";

/** Landing page of {APP_BASE_URL}/reset-password?token=… */
export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const navigate = useNavigate();
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<ResetValues>({
    resolver: zodResolver(resetSchema),
    defaultValues: { new_password: "", confirm_password: "" },
  });

  const onSubmit = handleSubmit(async ({ new_password }) => {
    try {
      await authApi.resetPassword({ token, new_password });
      navigate("/login", { replace: true, state: { notice: "Password changed. Log in with your new password." } });
    } catch (err) {
      applyApiError(err, setError, ["new_password"]);
    }
  });

  return (
    <>
      <h1>Choose a new password</h1>
      {!token ? (
        <p role="alert" className="form-error">
          This link has no token. <Link to="/forgot-password">Request a new reset link.</Link>
        </p>
      ) : (
        <form onSubmit={onSubmit} noValidate className="form">
          <FormError message={errors.root?.server?.message} />
          <Field
            label="New password"
            type="password"
            autoComplete="new-password"
            hint="At least 8 characters."
            error={errors.new_password}
            {...register("new_password")}
          />
          <Field
            label="Repeat new password"
            type="password"
            autoComplete="new-password"
            error={errors.confirm_password}
            {...register("confirm_password")}
          />
          <button type="submit" className="btn btn-primary btn-block" disabled={isSubmitting}>
            {isSubmitting ? "Saving…" : "Set new password"}
          </button>
        </form>
      )}
      <p className="auth-links">
        <Link to="/forgot-password">Request a new link</Link>
        <Link to="/login">Back to log in</Link>
      </p>
    </>
  );
}
