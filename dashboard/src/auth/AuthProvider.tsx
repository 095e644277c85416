import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { onSessionExpired, refreshSession, setAccessToken } from "../api/client";
import { authApi, qk } from "../api/endpoints";
import type { User } from "../api/types";

type Status = "loading" | "authenticated" | "anonymous";

interface AuthState {
  status: Status;
  user: User | undefined;
  /** Loading /api/auth/me failed (not a 401: those end the session). */
  userError: unknown;
  retryUser(): void;
  login(email: string, password: string): Promise<void>;
  logout(): Promise<void>;
  /** Forget the session locally (e.g. after deleting the account); the log-in page shows `notice`. */
  clearSession(notice?: string): void;
  /**
   * Set when the user ended the session on purpose (log out, account deleted):
   * the guards then go to a plain log-in page (with the notice) instead of
   * one that returns to the current page, as after an expired session.
   */
  signedOut: { notice?: string } | null;
}

const AuthContext = createContext<AuthState | null>(null);

// One restore per page load, even under StrictMode's double effects: the
// refresh token rotates on use, so a second parallel refresh would be fatal.
let restorePromise: Promise<boolean> | null = null;
function restoreOnce(): Promise<boolean> {
  restorePromise ??= refreshSession();
  return restorePromise;
}
/** Test helper. */
export function resetRestore(): void {
  restorePromise = null;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<Status>("loading");
  const [signedOut, setSignedOut] = useState<{ notice?: string } | null>(null);

  useEffect(() => {
    let live = true;
    restoreOnce().then((ok) => {
      if (live) setStatus(ok ? "authenticated" : "anonymous");
    });
    return () => {
      live = false;
    };
  }, []);

  const endSession = useCallback(
    (deliberately: { notice?: string } | null) => {
      setAccessToken(null);
      queryClient.clear();
      setSignedOut(deliberately);
      setStatus("anonymous");
    },
    [queryClient],
  );
  const clearSession = useCallback((notice?: string) => endSession(notice ? { notice } : {}), [endSession]);

  // Expired (refresh failed): log-in brings the user back to where they were.
  useEffect(() => onSessionExpired(() => endSession(null)), [endSession]);

  const me = useQuery({
    queryKey: qk.me,
    queryFn: authApi.me,
    enabled: status === "authenticated",
    staleTime: 60_000,
    // Until the address is verified (maybe in another tab or on a phone),
    // look again now and then, so the banner and disabled actions clear by
    // themselves.
    refetchInterval: (query) => (query.state.data && !query.state.data.email_verified ? 5_000 : false),
  });

  const login = useCallback(
    async (email: string, password: string) => {
      const tokens = await authApi.login({ email, password });
      setAccessToken(tokens.access_token);
      queryClient.clear();
      await queryClient.fetchQuery({ queryKey: qk.me, queryFn: authApi.me });
      setSignedOut(null);
      setStatus("authenticated");
    },
    [queryClient],
  );

  const logout = useCallback(async () => {
    try {
      await authApi.logout();
    } finally {
      endSession({});
    }
  }, [endSession]);

  const value = useMemo<AuthState>(
    () => ({
      status,
      user: me.data,
      userError: me.error,
      retryUser: () => void me.refetch(),
      login,
      logout,
      clearSession,
      signedOut,
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [status, me.data, me.error, login, logout, clearSession, signedOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth outside <AuthProvider>");
  return ctx;
}
