import { zodResolver } from "@hookform/resolvers/zod";
import { useForm } from "react-hook-form";
import { Link, useLocation, useNavigate } from "react-router";
import { useAuth } from "../auth/AuthProvider";
import { afterLogin } from "../auth/guards";
import { Field, FormError } from "../components/Field";
import { applyApiError } from "../lib/forms";
import { loginSchema, type LoginValues } from "../lib/schemas";

export function LoginPage() {
  const { login } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const state = location.state as { from?: string; notice?: string } | null;
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<LoginValues>({ resolver: zodResolver(loginSchema), defaultValues: { email: "", password: "" } });

  const onSubmit = handleSubmit(async (values) => {
    try {
      await login(values.email, values.password);
      navigate(afterLogin(state), { replace: true });
    } catch (err) {
      applyApiError(err, setError, ["email", "password"]);
    }
  });

  return (
    <>
      <h1>Log in</h1>
      {state?.notice && (
        <p className="notice" role="status">
          {state.notice}
        </p>
      )}
      <form onSubmit={onSubmit} noValidate className="form">
        <FormError message={errors.root?.server?.message} />
        <Field label="E-mail" type="email" autoComplete="username" error={errors.email} {...register("email")} />
        <Field
          label="Password"
          type="password"
          autoComplete="current-password"
          error={errors.password}
          {...register("password")}
        />
        <button type="submit" className="btn btn-primary btn-block" disabled={isSubmitting}>
          {isSubmitting ? "Logging in…" : "Log in"}
        </button>
      </form>
      <p className="auth-links">
        <Link to="/forgot-password">Forgot your password?</Link>
        <span>
          New here? <Link to="/signup">Create an account</Link>
        </span>
      </p>
    </>
  );
}
