import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { Link, useSearchParams } from "react-router";
import { ApiError, errorMessage } from "../api/client";
import { authApi, qk } from "../api/endpoints";
import { useAuth } from "../auth/AuthProvider";
import { Loading } from "../components/bits";

/** Landing page of the link mailed as {APP_BASE_URL}/verify-email?token=… */
export function VerifyEmailPage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const { status } = useAuth();
  const queryClient = useQueryClient();
  const verify = useMutation({
    mutationFn: authApi.verifyEmail,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: qk.me }),
  });
  // The token is single-use: post it once, even under StrictMode's double effects.
  const sent = useRef(false);
  useEffect(() => {
    if (token && !sent.current) {
      sent.current = true;
      verify.mutate(token);
    }
  }, [token, verify]);

  const next = status === "authenticated" ? <Link to="/">Go to the dashboard</Link> : <Link to="/login">Log in</Link>;

  return (
    <>
      <h1>Verify e-mail</h1>
      {!token && (
        <p role="alert" className="form-error">
          This link has no token. Open the link from the e-mail again, or request a new one from your account page.
        </p>
      )}
      {token && (verify.isPending || verify.isIdle) && <Loading label="Verifying…" />}
      {verify.isSuccess && (
        <p role="status" className="notice">
          Your e-mail address is verified. You can now create endpoints.
        </p>
      )}
      {verify.isError && (
        <div role="alert" className="form-error">
          {verify.error instanceof ApiError && verify.error.code === "invalid_token"
            ? "This link is invalid, already used or expired. Request a new one from your account page (or log in and use the banner)."
            : errorMessage(verify.error)}
        </div>
      )}
      <p className="auth-links">{next}</p>
    </>
  );
}
