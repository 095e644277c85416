import { NavLink, Outlet, useNavigate } from "react-router";
import { useAuth } from "../auth/AuthProvider";
import { useLiveUpdates } from "../live/useLiveUpdates";
import { ThemeSwitcher } from "./ThemeSwitcher";
import { VerifyBanner } from "./VerifyBanner";

const NAV = [
  { to: "/", label: "Home", end: true },
  { to: "/messages", label: "Messages" },
  { to: "/deliveries", label: "Deliveries" },
  { to: "/endpoints", label: "Endpoints" },
  { to: "/channels", label: "Channels" },
  { to: "/rules", label: "Rules" },
  { to: "/plugins", label: "Plugins" },
  { to: "/account", label: "Account" },
];

export function Layout() {
  const { user, logout } = useAuth();
  const navigate = useNavigate();
  // New messages and delivery changes arrive over SSE while signed in (this layout only renders then).
  const live = useLiveUpdates();
  return (
    <div className="app">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" end>
          <img src="/favicon.svg" alt="" width={24} height={24} /> Beacon Spear
        </NavLink>
        <nav aria-label="Main" className="mainnav">
          {NAV.map((n) => (
            <NavLink key={n.to} to={n.to} end={n.end}>
              {n.label}
            </NavLink>
          ))}
        </nav>
        <div className="topbar-end">
          <span
            className={`live live-${live}`}
            title={live === "open" ? "Live updates: connected" : "Live updates: reconnecting"}
          >
            <span aria-hidden="true" className="live-dot" />
            <span className="live-label">{live === "open" ? "Live" : live === "stopped" ? "Offline" : "Connecting…"}</span>
          </span>
          <ThemeSwitcher />
          <span className="muted user-email" title={user?.email}>
            {user?.email}
          </span>
          <button
            type="button"
            className="btn btn-small"
            onClick={async () => {
              await logout().catch(() => undefined);
              navigate("/login", { replace: true });
            }}
          >
            Log out
          </button>
        </div>
      </header>
      <VerifyBanner />
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

/** Frame for the signed-out pages (log in, sign up, …). */
export function AuthLayout() {
  return (
    <div className="auth-page">
      <div className="auth-top">
        <span className="brand">
          <img src="/favicon.svg" alt="" width={24} height={24} /> Beacon Spear
        </span>
        <ThemeSwitcher />
      </div>
      <main id="main" className="auth-card">
        <Outlet />
      </main>
    </div>
  );
}
