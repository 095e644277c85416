import { useEffect, useRef, useState } from "react";
import { NavLink, Outlet, useLocation } from "react-router";
import { useLiveUpdates } from "../live/useLiveUpdates";
import { ThemeSwitcher } from "./ThemeSwitcher";
import { UserMenu } from "./UserMenu";
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

const NAV_ID = "main-nav";

/**
 * The compact menu of narrow screens: a disclosure button that shows the
 * main navigation as a drop-down over the page (CSS hides the button, and
 * shows the navigation inline, on wide screens). Opening it moves focus to the
 * first link (the navigation comes before the button in the document, so Tab
 * would otherwise skip it); it closes on navigation, Escape (focus back on the
 * button), a click or tap outside the top bar, and focus leaving the top bar
 * (so Tab never lands on content the drop-down covers).
 */
function useCompactMenu() {
  const [open, setOpen] = useState(false);
  const location = useLocation();
  const button = useRef<HTMLButtonElement>(null);
  const header = useRef<HTMLElement>(null);
  const nav = useRef<HTMLElement>(null);
  // Any navigation (link, back/forward) closes it: adjust state while rendering, not in an effect.
  const [seenKey, setSeenKey] = useState(location.key);
  if (seenKey !== location.key) {
    setSeenKey(location.key);
    setOpen(false);
  }
  useEffect(() => {
    if (!open) return;
    nav.current?.querySelector<HTMLElement>("a[href]")?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape" || e.defaultPrevented) return;
      setOpen(false);
      button.current?.focus();
    };
    const closeOutside = (e: Event) => {
      if (header.current && !header.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", closeOutside);
    document.addEventListener("focusin", closeOutside);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", closeOutside);
      document.removeEventListener("focusin", closeOutside);
    };
  }, [open]);
  return { open, setOpen, button, header, nav };
}

export function Layout() {
  // New messages and delivery changes arrive over SSE while signed in (this layout only renders then).
  const live = useLiveUpdates();
  const menu = useCompactMenu();
  return (
    <div className="app">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar" ref={menu.header} data-menu-open={menu.open || undefined}>
        <NavLink to="/" className="brand" end>
          <img src="/favicon.svg" alt="" width={24} height={24} /> Beacon Spear
        </NavLink>
        <nav aria-label="Main" className="mainnav" id={NAV_ID} ref={menu.nav}>
          {NAV.map((n) => (
            <NavLink key={n.to} to={n.to} end={n.end} onClick={() => menu.setOpen(false)}>
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
          <UserMenu />
          <button
            ref={menu.button}
            type="button"
            className="btn menu-toggle"
            aria-expanded={menu.open}
            aria-controls={NAV_ID}
            onClick={() => menu.setOpen((o) => !o)}
          >
            <svg aria-hidden="true" width="18" height="18" viewBox="0 0 18 18" className="menu-icon">
              {menu.open ? (
                <path d="M4 4l10 10M14 4L4 14" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
              ) : (
                <path d="M2 4h14M2 9h14M2 14h14" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
              )}
            </svg>
            Menu
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
