import { useMutation } from "@tanstack/react-query";
import { errorMessage } from "../api/client";
import { authApi } from "../api/endpoints";
import { useAuth } from "../auth/AuthProvider";

/** Shown to signed-in users whose e-mail address is not verified yet. */
export function VerifyBanner() {
  const { user } = useAuth();
  const resend = useMutation({ mutationFn: () => authApi.resendVerification() });
  if (!user || user.email_verified) return null;
  return (
    <div className="banner" role="region" aria-label="E-mail verification">
      <p>
        Verify <strong>{user.email}</strong> to create endpoints, channels and rules. We sent you a link.
      </p>
      <button type="button" className="btn btn-small" onClick={() => resend.mutate()} disabled={resend.isPending}>
        {resend.isPending ? "Sending…" : "Resend e-mail"}
      </button>
      <span aria-live="polite" className="banner-status">
        {resend.isSuccess && "Sent — check your inbox."}
        {resend.isError && errorMessage(resend.error)}
      </span>
    </div>
  );
}

/** True when create actions must be disabled. */
export function useCanCreate(): boolean {
  const { user } = useAuth();
  return Boolean(user?.email_verified);
}

export const UNVERIFIED_HINT = "Verify your e-mail address first.";
