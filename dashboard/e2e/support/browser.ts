/**
 * Debian's Chromium through playwright-core (no browser download): headless,
 * a fresh profile per launch (playwright creates and removes a temp
 * user-data-dir), every page watched for uncaught errors and for requests
 * leaving loopback.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";
import { expect, onTestFailed } from "vitest";
import { stack } from "./env";

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-quic",
  "--no-first-run",
  "--disable-sync",
  // Nothing but loopback resolves: the app must not need the internet.
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

export async function launch(): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
  } catch (err) {
    throw new Error(
      `could not start Chromium at ${CHROMIUM} (install it with \`apt-get install chromium\`, or set CHROMIUM_PATH): ${String(err)}`,
    );
  }
}

export const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 } };
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

/** What went wrong on a page that an assertion might not notice. */
export interface PageWatch {
  errors: string[];
  offsite: string[];
  consoleErrors: string[];
}

const watches = new WeakMap<Page, PageWatch>();

/** A new context + page at `options`, watched; on a failing test it leaves a screenshot in screenshots/failures/. */
export async function newPage(browser: Browser, options: BrowserContextOptions = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ ...options, baseURL: stack().baseUrl, locale: "en-GB", timezoneId: "UTC" });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  const page = await context.newPage();
  const watch: PageWatch = { errors: [], offsite: [], consoleErrors: [] };
  watches.set(page, watch);
  page.on("pageerror", (err) => watch.errors.push(String(err.stack ?? err)));
  page.on("console", (msg) => {
    if (msg.type() === "error") watch.consoleErrors.push(msg.text());
  });
  page.on("request", (req) => {
    const host = new URL(req.url()).hostname;
    if (!["127.0.0.1", "localhost"].includes(host) && !req.url().startsWith("data:")) watch.offsite.push(req.url());
  });
  onTestFailed(async () => {
    try {
      const dir = join(stack().screenshotsDir, "failures");
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${Date.now()}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.error(`e2e: page was at ${page.url()} — screenshot ${file}; server log ${stack().serverLog}`);
      if (watch.consoleErrors.length) console.error(`e2e: console errors:\n  ${watch.consoleErrors.join("\n  ")}`);
    } catch {
      // the page may be gone already
    }
  });
  return { context, page };
}

/** No uncaught script errors and no request left loopback on this page. */
export function expectCleanPage(page: Page) {
  const w = watches.get(page);
  if (!w) return;
  expect(w.errors, "uncaught errors in the page").toEqual([]);
  expect(w.offsite, "requests that left 127.0.0.1").toEqual([]);
}

export function shot(page: Page, name: string, fullPage = true) {
  return page.screenshot({ path: join(stack().screenshotsDir, `${name}.png`), fullPage, animations: "disabled" });
}

/** Null when the page fits its width; otherwise what sticks out (for the failure message). */
export async function horizontalOverflow(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const width = doc.clientWidth;
    if (doc.scrollWidth <= width + 1 && document.body.scrollWidth <= width + 1) return null;
    // Elements past the right edge, not counting content of scrolling boxes (wide tables, code);
    // reported are the innermost ones (no child of theirs sticks out too).
    const sticking = new Set<Element>();
    for (const el of Array.from(document.body.querySelectorAll<HTMLElement>("*"))) {
      const r = el.getBoundingClientRect();
      if (r.right <= width + 1 || r.width === 0) continue;
      let parent = el.parentElement;
      let scrolled = false;
      while (parent && parent !== document.body) {
        if (/(auto|scroll|hidden|clip)/.test(getComputedStyle(parent).overflowX)) {
          scrolled = true;
          break;
        }
        parent = parent.parentElement;
      }
      if (!scrolled) sticking.add(el);
    }
    const culprits = [...sticking]
      .filter((el) => ![...el.children].some((c) => sticking.has(c)))
      .slice(0, 5)
      .map((el) => {
        const cls = typeof el.className === "string" && el.className.trim() ? `.${el.className.trim().split(/\s+/).join(".")}` : "";
        const right = Math.round(el.getBoundingClientRect().right);
        return `${el.tagName.toLowerCase()}${cls} (right edge ${right} px): “${(el.textContent ?? "").trim().slice(0, 60)}”`;
      });
    return `page is ${doc.scrollWidth} px wide in a ${width} px viewport; sticking out: ${culprits.join("; ") || "(unknown)"}`;
  });
}

/** Log in through the form. */
export async function logIn(page: Page, email: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("E-mail", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await signedInBar(page).waitFor();
}

/** The signed-in top bar's user menu button (present at every width, unlike the navigation, which narrow screens fold away). */
export const signedInBar = (page: Page) => page.getByRole("banner").getByRole("button", { name: /^Account menu/ });

/**
 * Follow a link of the main navigation. On narrow screens it sits behind the
 * compact *Menu* button: open that first, and check it closes again.
 */
export async function navTo(page: Page, name: string) {
  const toggle = page.getByRole("banner").getByRole("button", { name: "Menu", exact: true });
  const compact = await toggle.isVisible();
  if (compact && (await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();
  if (compact) await toggle.and(page.locator('[aria-expanded="false"]')).waitFor();
}
