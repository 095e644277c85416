import { Navigate, Outlet, useLocation } from "react-router";
import { ErrorState, Loading } from "../components/bits";
import { useAuth } from "./AuthProvider";

export function RequireAuth() {
  const { status, user, userError, retryUser, signedOut } = useAuth();
  const location = useLocation();
  if (status === "authenticated" && !user && userError) {
    return (
      <div className="center-page">
        <ErrorState error={userError} onRetry={retryUser} />
      </div>
    );
  }
  if (status === "loading" || (status === "authenticated" && !user)) {
    return (
      <div className="center-page">
        <Loading label="Restoring your session…" />
      </div>
    );
  }
  if (status === "anonymous") {
    // Logged out or deleted on purpose: a plain log-in page (with what happened), not a way back here.
    if (signedOut) return <Navigate to="/login" replace state={signedOut.notice ? { notice: signedOut.notice } : null} />;
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return <Outlet />;
}

/** Where to go after logging in: the page that sent the user to log in (`state.from`), else home. */
export function afterLogin(state: unknown): string {
  const from = (state as { from?: unknown } | null)?.from;
  return typeof from === "string" && from.startsWith("/") && !from.startsWith("//") ? from : "/";
}

/**
 * Log in / sign up / forgot password: signed-in users are sent on — to the
 * page that asked them to log in, the same target the log-in form navigates
 * to, so the two navigations cannot disagree.
 */
export function AnonymousOnly() {
  const { status } = useAuth();
  const location = useLocation();
  if (status === "loading") {
    return <Loading />;
  }
  if (status === "authenticated") return <Navigate to={afterLogin(location.state)} replace />;
  return <Outlet />;
}
