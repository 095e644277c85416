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
  /** Forget the session locally (e.g. after deleting the account). */
  clearSession(): void;
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

  useEffect(() => {
    let live = true;
    restoreOnce().then((ok) => {
      if (live) setStatus(ok ? "authenticated" : "anonymous");
    });
    return () => {
      live = false;
    };
  }, []);

  const clearSession = useCallback(() => {
    setAccessToken(null);
    queryClient.clear();
    setStatus("anonymous");
  }, [queryClient]);

  useEffect(() => onSessionExpired(clearSession), [clearSession]);

  const me = useQuery({
    queryKey: qk.me,
    queryFn: authApi.me,
    enabled: status === "authenticated",
    staleTime: 60_000,
  });

  const login = useCallback(
    async (email: string, password: string) => {
      const tokens = await authApi.login({ email, password });
      setAccessToken(tokens.access_token);
      queryClient.clear();
      await queryClient.fetchQuery({ queryKey: qk.me, queryFn: authApi.me });
      setStatus("authenticated");
    },
    [queryClient],
  );

  const logout = useCallback(async () => {
    try {
      await authApi.logout();
    } finally {
      clearSession();
    }
  }, [clearSession]);

  const value = useMemo<AuthState>(
    () => ({
      status,
      user: me.data,
      userError: me.error,
      retryUser: () => void me.refetch(),
      login,
      logout,
      clearSession,
    }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [status, me.data, me.error, login, logout, clearSession],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth outside <AuthProvider>");
  return ctx;
}
