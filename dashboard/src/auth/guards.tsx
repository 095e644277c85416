import { Navigate, Outlet, useLocation } from "react-router";
import { ErrorState, Loading } from "../components/bits";
import { useAuth } from "./AuthProvider";

export function RequireAuth() {
  const { status, user, userError, retryUser } = useAuth();
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
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return <Outlet />;
}

/** Log in / sign up / forgot password: signed-in users go home instead. */
export function AnonymousOnly() {
  const { status } = useAuth();
  if (status === "loading") {
    return <Loading />;
  }
  if (status === "authenticated") return <Navigate to="/" replace />;
  return <Outlet />;
}
