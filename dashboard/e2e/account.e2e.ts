/**
 * Account flows through the dashboard, with the links read from the mails the
 * server sent: forgotten password → reset; change password; change e-mail
 * (re-verification at the new address); delete account; the theme choice
 * surviving a reload.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectCleanPage, launch, logIn, navTo, newPage, PHONE, shot, signedInBar } from "./support/browser";
import {
  apiCall,
  apiLogin,
  eventually,
  ingestStatus,
  PASSWORD,
  resetLink,
  seedEndpoint,
  seedUser,
  stack,
  uniqueEmail,
  verificationLink,
  waitForMail,
} from "./support/env";

const NEW_PASSWORD = "a brand new passphrase 42";

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** Fill the log-in form and submit; does not wait for the outcome. */
async function submitLogIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("E-mail", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** The log-in form refuses: an error in the form, still on /login, not signed in. */
async function expectLogInRefused(page: Page, email: string, password: string) {
  await submitLogIn(page, email, password);
  await page.locator("form").getByRole("alert").waitFor();
  expect(new URL(page.url()).pathname).toBe("/login");
  expect(await signedInBar(page).count()).toBe(0);
}

async function logOut(page: Page) {
  await signedInBar(page).click();
  await page.getByRole("menu").getByRole("menuitem", { name: "Log out" }).click();
  await page.waitForURL("**/login");
}

/** The error text the input points at (aria-describedby → .field-error). */
const errorOf = (input: ReturnType<Page["getByLabel"]>) =>
  input.evaluate((el) => {
    const ids = (el.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean);
    return ids.map((id) => document.getElementById(id)).find((e) => e?.classList.contains("field-error"))?.textContent ?? null;
  });

describe("forgotten password", () => {
  it("mails a reset link; the new password works, the old one no longer does, and the link works once", async () => {
    const user = await seedUser("forgot");
    const { page, context } = await newPage(browser);
    await page.goto("/login");
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.waitForURL("**/forgot-password");
    await page.getByLabel("E-mail", { exact: true }).fill(user.email);
    await page.getByRole("button", { name: "Send reset link" }).click();
    await page.getByText(/If an account exists for/).waitFor();

    const link = resetLink(await waitForMail(user.email, "Reset your Beacon Spear password"));
    expect(link.startsWith(`${stack().baseUrl}/reset-password?token=`)).toBe(true);
    await page.goto(link);
    await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("Repeat new password", { exact: true }).fill(NEW_PASSWORD);
    await shot(page, "account-01-reset-password");
    await page.getByRole("button", { name: "Set new password" }).click();
    await page.waitForURL("**/login");
    await page.getByText("Password changed. Log in with your new password.").waitFor();

    await expectLogInRefused(page, user.email, PASSWORD);
    await logIn(page, user.email, NEW_PASSWORD);
    await page.getByRole("heading", { name: "Home", level: 1 }).waitFor();
    expect((await apiLogin(user.email, PASSWORD)).status).toBe(401);

    // The link was used up: following it again is refused with a message.
    await logOut(page);
    await page.goto(link);
    await page.getByLabel("New password", { exact: true }).fill("yet another passphrase");
    await page.getByLabel("Repeat new password", { exact: true }).fill("yet another passphrase");
    await page.getByRole("button", { name: "Set new password" }).click();
    await eventually(() => page.locator("form").getByRole("alert").textContent()).toMatch(/\S/);
    expect(new URL(page.url()).pathname).toBe("/reset-password");
    expect((await apiLogin(user.email, NEW_PASSWORD)).status).toBe(200);
    expectCleanPage(page);
    await context.close();
  });
});

describe("account page", () => {
  it("changes the password (a wrong current one is refused at its field), then logs in with the new one", async () => {
    const user = await seedUser("chpw");
    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);
    await navTo(page, "Account");
    const form = page.getByRole("region", { name: "Change password" });
    const current = form.getByLabel("Current password", { exact: true });
    await current.fill("not my password");
    await form.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await form.getByLabel("Repeat new password", { exact: true }).fill(NEW_PASSWORD);
    await form.getByRole("button", { name: "Change password" }).click();
    await eventually(() => errorOf(current)).toMatch(/password/i);

    await current.fill(PASSWORD);
    await form.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await form.getByLabel("Repeat new password", { exact: true }).fill(NEW_PASSWORD);
    await form.getByRole("button", { name: "Change password" }).click();
    await form.getByText("Password changed.").waitFor();
    // This session goes on.
    await page.reload();
    await page.getByRole("region", { name: "Change password" }).waitFor();
    expect(await signedInBar(page).count()).toBe(1);

    await logOut(page);
    await expectLogInRefused(page, user.email, PASSWORD);
    await logIn(page, user.email, NEW_PASSWORD);
    await page.getByRole("heading", { name: "Home", level: 1 }).waitFor();
    expectCleanPage(page);
    await context.close();
  });

  it("changes the e-mail address: the link goes to the new address, and following it updates the shown address", async () => {
    const user = await seedUser("chmail");
    const newEmail = uniqueEmail("chmail-new");
    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);
    await page.goto("/account");
    const form = page.getByRole("region", { name: "Change e-mail" });
    await form.getByLabel("New e-mail", { exact: true }).fill(newEmail);
    await form.getByLabel("Current password", { exact: true }).fill(PASSWORD);
    await form.getByRole("button", { name: "Change e-mail" }).click();
    await form.getByText(/We sent a confirmation link to/).waitFor();
    expect(await form.getByRole("status").textContent()).toContain(newEmail);
    // Nothing changes until the link is followed.
    const shown = page.getByRole("region", { name: "E-mail address" });
    expect(await shown.textContent()).toContain(user.email);

    const mail = await waitForMail(newEmail, "Confirm your e-mail address");
    expect(mail.to).toEqual([newEmail.toLowerCase()]);
    await page.goto(verificationLink(mail));
    await page.getByText("Your e-mail address is verified.").waitFor();
    await page.goto("/account");
    await eventually(() => shown.textContent()).toContain(newEmail);
    expect(await shown.textContent()).toContain("verified");
    expect(await signedInBar(page).getAttribute("aria-label")).toBe(`Account menu (${newEmail})`);
    await shot(page, "account-02-email-changed");

    expect((await apiLogin(newEmail, PASSWORD)).status).toBe(200);
    expect((await apiLogin(user.email, PASSWORD)).status).toBe(401);
    expectCleanPage(page);
    await context.close();
  });

  it("deletes the account after confirming with the password; then log-in and its ingest key fail", async () => {
    const user = await seedUser("delete");
    const endpoint = await seedEndpoint(user, "doomed");
    expect(await ingestStatus(endpoint, { body: "before" })).toBe(201);
    const { page, context } = await newPage(browser);
    await logIn(page, user.email, user.password);
    await page.goto("/account");
    await page.getByRole("button", { name: "Delete account…" }).click();
    const dialog = page.getByRole("alertdialog", { name: "Delete your account?" });
    const password = dialog.getByLabel("Password", { exact: true });
    // Cancel leaves everything as it was.
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await eventually(() => dialog.count()).toBe(0);
    await page.getByRole("button", { name: "Delete account…" }).click();
    await password.fill("wrong");
    await dialog.getByRole("button", { name: "Delete my account" }).click();
    await eventually(() => errorOf(password)).toMatch(/password/i);
    await shot(page, "account-03-delete-confirm");
    await password.fill(PASSWORD);
    await dialog.getByRole("button", { name: "Delete my account" }).click();
    await page.waitForURL("**/login");
    await page.getByText("Your account and its data were deleted.").waitFor();

    await expectLogInRefused(page, user.email, PASSWORD);
    expect((await apiLogin(user.email, PASSWORD)).status).toBe(401);
    expect(await ingestStatus(endpoint, { body: "after" })).toBe(401);
    await expect(apiCall(user, "GET", "/api/auth/me")).rejects.toThrow(/HTTP 401/);
    expectCleanPage(page);
    await context.close();
  });
});

describe("theme", () => {
  it("Dark, chosen in the user menu on a phone, survives a reload; Light from the account page too", async () => {
    const user = await seedUser("theme");
    const { page, context } = await newPage(browser, { ...PHONE, colorScheme: "light" });
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await logIn(page, user.email, user.password);
    const light = await background();

    await signedInBar(page).click();
    const menu = page.getByRole("menu");
    await menu.getByRole("menuitemradio", { name: "Dark" }).click();
    expect(await menu.getByRole("menuitemradio", { name: "Dark" }).getAttribute("aria-checked")).toBe("true");
    await page.keyboard.press("Escape");
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    const dark = await background();
    expect(dark).not.toBe(light);

    await page.reload();
    await signedInBar(page).waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    expect(await background()).toBe(dark);
    await navTo(page, "Account");
    const switcher = page.getByRole("main").getByRole("radiogroup", { name: "Colour theme" });
    expect(await switcher.getByRole("radio", { name: "Dark" }).getAttribute("aria-checked")).toBe("true");
    await shot(page, "390-account-dark");

    await switcher.getByRole("radio", { name: "Light" }).click();
    await page.reload();
    await page.getByRole("main").getByRole("radiogroup", { name: "Colour theme" }).waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
    expect(await background()).toBe(light);
    expectCleanPage(page);
    await context.close();
  });
});
