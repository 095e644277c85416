import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiError, json, mockFetch } from "../test/http";
import { errorFor, signedIn, TOKENS } from "../test/fixtures";
import { renderApp } from "../test/render";

afterEach(() => vi.unstubAllGlobals());

describe("delete account", () => {
  it("asks for the password, refuses a wrong one at its field, then ends at log-in with a notice", async () => {
    let deleted = false;
    const spy = mockFetch(
      signedIn(({ url, body }) => {
        if (url === "/api/auth/delete-account") {
          if ((body as { password: string }).password !== "right password") {
            return apiError(403, "wrong_password", "the password is wrong", "password");
          }
          deleted = true;
          return new Response(null, { status: 204 });
        }
        if (url === "/api/auth/login") return deleted ? apiError(401, "invalid_credentials", "wrong e-mail or password") : json(200, TOKENS);
        return json(404, {});
      }),
    );
    const { user, router } = renderApp("/account");
    await user.click(await screen.findByRole("button", { name: "Delete account…" }));
    const dialog = await screen.findByRole("alertdialog", { name: "Delete your account?" });
    await user.type(within(dialog).getByLabelText("Password"), "wrong");
    await user.click(within(dialog).getByRole("button", { name: "Delete my account" }));
    await waitFor(() => expect(errorFor("Password")).toBe("the password is wrong"));

    await user.clear(within(dialog).getByLabelText("Password"));
    await user.type(within(dialog).getByLabelText("Password"), "right password");
    await user.click(within(dialog).getByRole("button", { name: "Delete my account" }));
    expect(await screen.findByText("Your account and its data were deleted.")).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/login");
    expect(router.state.location.state).toEqual({ notice: "Your account and its data were deleted." });
    expect(spy.mock.calls.filter((c) => c[0] === "/api/auth/delete-account")).toHaveLength(2);
  });
});

describe("an expired session", () => {
  it("sends the user to log in and back to the page they were on", async () => {
    mockFetch(({ url }) => {
      if (url === "/api/auth/refresh") return apiError(401, "invalid_refresh_token", "no session");
      return json(404, {});
    });
    const { router } = renderApp("/rules?x=1");
    await screen.findByRole("heading", { name: "Log in" });
    expect(router.state.location.state).toEqual({ from: "/rules?x=1" });
  });
});
