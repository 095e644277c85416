import { DropdownMenu } from "radix-ui";
import { useNavigate } from "react-router";
import { useAuth } from "../auth/AuthProvider";
import { useTheme, type Theme } from "../lib/theme";
import { THEME_OPTIONS } from "./ThemeSwitcher";

/**
 * The signed-in user's menu in the top bar: who is signed in, the theme,
 * account settings and log out. Radix DropdownMenu: arrow keys move, Escape
 * closes, focus returns to the button. Not modal, so no scroll lock (whose
 * injected <style> a strict CSP would block).
 */
export function UserMenu() {
  const { user, logout } = useAuth();
  const navigate = useNavigate();
  const [theme, setTheme] = useTheme();
  const email = user?.email ?? "";
  return (
    <DropdownMenu.Root modal={false}>
      <DropdownMenu.Trigger asChild>
        <button type="button" className="btn user-menu-trigger" aria-label={`Account menu (${email})`} title={email}>
          <span className="avatar" aria-hidden="true">
            {email.slice(0, 1).toUpperCase() || "?"}
          </span>
          <span className="user-email">{email}</span>
          <svg aria-hidden="true" width="10" height="10" viewBox="0 0 10 10" className="caret">
            <path d="M1 3l4 4 4-4" fill="none" stroke="currentColor" strokeWidth="1.6" />
          </svg>
        </button>
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content className="menu-content" align="end" sideOffset={6} collisionPadding={8}>
          <DropdownMenu.Label className="menu-label">
            <span className="muted">Signed in as</span>
            <strong className="break">{email}</strong>
            {user && !user.email_verified && <span className="status status-bad">not verified</span>}
          </DropdownMenu.Label>
          <DropdownMenu.Separator className="menu-separator" />
          <DropdownMenu.Label className="menu-label muted">Theme</DropdownMenu.Label>
          <DropdownMenu.RadioGroup value={theme} onValueChange={(v) => setTheme(v as Theme)}>
            {THEME_OPTIONS.map((o) => (
              <DropdownMenu.RadioItem
                key={o.value}
                value={o.value}
                className="menu-item"
                // Stay open: the page changes behind the menu and another choice is one key away.
                onSelect={(e) => e.preventDefault()}
              >
                <span className="menu-check" aria-hidden="true">
                  <DropdownMenu.ItemIndicator>✓</DropdownMenu.ItemIndicator>
                </span>
                {o.label}
              </DropdownMenu.RadioItem>
            ))}
          </DropdownMenu.RadioGroup>
          <DropdownMenu.Separator className="menu-separator" />
          <DropdownMenu.Item className="menu-item" onSelect={() => navigate("/account")}>
            <span className="menu-check" aria-hidden="true" />
            Account settings
          </DropdownMenu.Item>
          <DropdownMenu.Item
            className="menu-item"
            // Ends the session; the route guard then shows the log-in page.
            onSelect={() => void logout().catch(() => undefined)}
          >
            <span className="menu-check" aria-hidden="true" />
            Log out
          </DropdownMenu.Item>
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}
