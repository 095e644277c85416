import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { json, mockFetch } from "../test/http";
import { ENDPOINTS, signedIn } from "../test/fixtures";
import { renderApp } from "../test/render";
import { THEME_KEY } from "../lib/theme";

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  delete document.documentElement.dataset.theme;
});

function setup(path = "/messages") {
  const spy = mockFetch(
    signedIn(({ url }) => {
      if (url === "/api/auth/logout") return new Response(null, { status: 204 });
      if (url.startsWith("/api/messages")) return json(200, { items: [], next_cursor: null });
      if (url.startsWith("/api/ingest-endpoints")) return json(200, { items: ENDPOINTS });
      if (url.startsWith("/api/rules")) return json(200, { items: [] });
      if (url.startsWith("/api/channels")) return json(200, { items: [] });
      return json(404, {});
    }),
  );
  return { spy, ...renderApp(path) };
}

describe("compact menu (narrow screens)", () => {
  it("is a disclosure for the main navigation: opens, closes on Escape with focus back, and on navigation", async () => {
    const { user, router } = setup();
    const toggle = await screen.findByRole("button", { name: "Menu" });
    const nav = screen.getByRole("navigation", { name: "Main" });
    const header = screen.getByRole("banner");
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    expect(toggle).toHaveAttribute("aria-controls", nav.id);
    expect(header).not.toHaveAttribute("data-menu-open");

    await user.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    expect(header).toHaveAttribute("data-menu-open");
    // Focus goes into the navigation (it precedes the button in the document).
    expect(within(nav).getByRole("link", { name: "Home" })).toHaveFocus();
    await user.tab();
    expect(within(nav).getByRole("link", { name: "Messages" })).toHaveFocus();

    await user.keyboard("{Escape}");
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    expect(toggle).toHaveFocus();

    // Keyboard only: Enter opens, Tab moves through the links, Enter follows one and closes the menu.
    await user.keyboard("{Enter}");
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    for (let i = 0; i < 5; i++) await user.tab();
    expect(within(nav).getByRole("link", { name: "Rules" })).toHaveFocus();
    await user.keyboard("{Enter}");
    await waitFor(() => expect(router.state.location.pathname).toBe("/rules"));
    expect(toggle).toHaveAttribute("aria-expanded", "false");
  });

  it("closes on back/forward navigation and on a click outside the top bar", async () => {
    const { user, router } = setup();
    const toggle = await screen.findByRole("button", { name: "Menu" });
    await user.click(toggle);
    await router.navigate("/endpoints");
    await waitFor(() => expect(toggle).toHaveAttribute("aria-expanded", "false"));

    await user.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    await user.click(await screen.findByRole("heading", { name: "Ingest endpoints", level: 1 }));
    expect(toggle).toHaveAttribute("aria-expanded", "false");
  });

  it("stays open while focus moves through the top bar and closes once Tab leaves it", async () => {
    const { user } = setup();
    const toggle = await screen.findByRole("button", { name: "Menu" });
    const nav = screen.getByRole("navigation", { name: "Main" });
    await user.click(toggle);
    for (let i = 0; i < 7; i++) await user.tab();
    expect(within(nav).getByRole("link", { name: "Account" })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole("button", { name: /^Account menu/ })).toHaveFocus();
    await user.tab();
    expect(toggle).toHaveFocus();
    expect(toggle).toHaveAttribute("aria-expanded", "true");

    // Past the button: the page's own controls, which the drop-down would cover.
    await user.tab();
    expect(screen.getByRole("banner")).not.toContainElement(document.activeElement as HTMLElement);
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    // Closing that way leaves focus where the user put it.
    expect(document.activeElement).not.toBe(toggle);
  });
});

describe("user menu", () => {
  it("shows who is signed in, switches the theme (remembered, in sync with the account page) and logs out", async () => {
    const { user, router, spy } = setup("/account");
    const trigger = await screen.findByRole("button", { name: "Account menu (ada@example.com)" });
    const accountSwitch = await screen.findByRole("radiogroup", { name: "Colour theme" });
    expect(within(accountSwitch).getByRole("radio", { name: "System" })).toBeChecked();

    await user.click(trigger);
    const menu = await screen.findByRole("menu");
    expect(within(menu).getByText("ada@example.com")).toBeInTheDocument();
    expect(within(menu).getByRole("menuitemradio", { name: "System" })).toBeChecked();
    await user.click(within(menu).getByRole("menuitemradio", { name: "Dark" }));
    // Stays open so another choice is one step away; the page follows at once.
    expect(within(menu).getByRole("menuitemradio", { name: "Dark" })).toBeChecked();
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(localStorage.getItem(THEME_KEY)).toBe("dark");
    expect(within(accountSwitch).getByRole("radio", { name: "Dark" })).toBeChecked();

    await user.click(within(menu).getByRole("menuitem", { name: "Log out" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/login"));
    expect(spy.mock.calls.some((c) => c[0] === "/api/auth/logout")).toBe(true);
    // A deliberate log-out is not an expired session: logging in again does not return to /account.
    expect(router.state.location.state).toBeNull();
  });

  it("leads to the account page", async () => {
    const { user, router } = setup("/messages");
    await user.click(await screen.findByRole("button", { name: /^Account menu/ }));
    await user.click(await screen.findByRole("menuitem", { name: "Account settings" }));
    await waitFor(() => expect(router.state.location.pathname).toBe("/account"));
  });
});

describe("message filters on narrow screens", () => {
  it("fold behind a button that counts the active filters, and fold again after Apply", async () => {
    const { user, router } = setup("/messages?priority_min=4&tag=ci");
    const toggle = await screen.findByRole("button", { name: /^Filters/ });
    const form = screen.getByRole("search", { name: "Filter messages" });
    expect(toggle).toHaveTextContent("2 active");
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    expect(toggle).toHaveAttribute("aria-controls", form.id);

    await user.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    await user.type(within(form).getByLabelText("Group"), "nas");
    await user.click(within(form).getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(router.state.location.search).toContain("group=nas"));
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    await waitFor(() => expect(toggle).toHaveTextContent("3 active"));

    await user.click(toggle);
    await user.click(within(form).getByRole("button", { name: "Clear" }));
    await waitFor(() => expect(toggle).toHaveTextContent("none active"));
  });
});
