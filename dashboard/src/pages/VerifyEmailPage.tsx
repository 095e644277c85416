import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { Link, useSearchParams } from "react-router";
import { ApiError, errorMessage } from "../api/client";
import { authApi, qk } from "../api/endpoints";
import { useAuth } from "../auth/AuthProvider";
import { Loading } from "../components/bits";
import { EmailLinkForm } from "../components/EmailLinkForm";
import { FormError } from "../components/Field";

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
          This link has no token. Open the link from the e-mail again, or ask for a new one below.
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
            ? "This link is invalid, already used or expired (a link works once, for 24 hours). If you followed it before, your address is already verified."
            : errorMessage(verify.error)}
        </div>
      )}
      {(!token || verify.isError) && <ResendVerification />}
      <p className="auth-links">{next}</p>
    </>
  );
}

/**
 * A new verification link, in place. `POST /api/auth/resend-verification`
 * mails the logged-in user, or — signed out — the address given in `email`;
 * it answers 202 whether or not that address has an unverified account.
 */
export function ResendVerification() {
  const { status, user } = useAuth();
  if (status === "loading") return null;
  if (status === "authenticated") {
    if (!user) return null;
    if (user.email_verified) {
      return (
        <p className="notice" role="status">
          <strong className="break">{user.email}</strong> is already verified: there is nothing left to do.
        </p>
      );
    }
    return <ResendToSignedIn email={user.email} />;
  }
  return <ResendByAddress />;
}

function ResendToSignedIn({ email }: { email: string }) {
  const resend = useMutation({ mutationFn: () => authApi.resendVerification() });
  return (
    <section className="stack" aria-labelledby="resend-h">
      <h2 id="resend-h">Get a new link</h2>
      {resend.isSuccess ? (
        <p className="notice" role="status">
          A new link is on its way to <strong className="break">{email}</strong>. It works once, for 24 hours.
        </p>
      ) : (
        <>
          <p>
            We will mail a new link to <strong className="break">{email}</strong>.
          </p>
          {resend.isError && <FormError message={errorMessage(resend.error)} />}
          <div>
            <button type="button" className="btn btn-primary" onClick={() => resend.mutate()} disabled={resend.isPending}>
              {resend.isPending ? "Sending…" : "Send a new link"}
            </button>
          </div>
        </>
      )}
    </section>
  );
}

function ResendByAddress() {
  return (
    <section className="stack" aria-labelledby="resend-h">
      <h2 id="resend-h">Get a new link</h2>
      <EmailLinkForm
        send={(email) => authApi.resendVerification(email)}
        label="Send a new verification link"
        intro="Enter the address you signed up with and we will mail it a new link. You do not need to log in."
        submitLabel="Send a new link"
        sentMessage={(email) => (
          <>
            If <strong className="break">{email}</strong> belongs to an account that is not verified yet, a new link is on
            its way. It works once, for 24 hours.
          </>
        )}
      />
    </section>
  );
}
