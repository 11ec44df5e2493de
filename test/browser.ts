/**
 * Headless Chromium for the web UI tests, driven by playwright-core. The
 * browser is Debian's (`apt-get install chromium`; .ci/run installs it when
 * missing); Playwright never downloads one. CHROMIUM_PATH overrides where it
 * is. Screenshots go to test/screenshots/ (git-ignored) for people to look at.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { ROOT, TEST_PASSWORD } from "./harness.ts";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR = join(ROOT, "test", "screenshots");

/** One Chromium per test process, shared by the files that process runs (vitest's isolate: false). */
let shared: Promise<Browser> | undefined;

function startChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Without the background-networking flags Chromium keeps calling home,
    // which this closed network refuses.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/**
 * A browser for one test file. Starting and stopping Chromium costs seconds,
 * so the files of one test process share one; what a file sees is its own:
 * its contexts (cookies, storage) are separate from every other file's, and
 * its `close()` closes those contexts, not the shared Chromium (which ends
 * with the process).
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: install Debian's package (apt-get install chromium) or set CHROMIUM_PATH.`);
  }
  if (!shared || !(await shared.then((browser) => browser.isConnected(), () => false))) {
    // First use in this process, or the last one crashed or failed to start.
    shared = startChromium();
  }
  const real = await shared;
  const mine = new Set<BrowserContext>();
  const handle = {
    async newContext(...args: Parameters<Browser["newContext"]>) {
      const context = await real.newContext(...args);
      mine.add(context);
      context.once("close", () => mine.delete(context));
      return context;
    },
    async newPage(...args: Parameters<Browser["newPage"]>) {
      const page = await real.newPage(...args);
      mine.add(page.context());
      return page;
    },
    contexts: () => real.contexts().filter((context) => mine.has(context)),
    async close() {
      await Promise.all([...mine].map((context) => context.close().catch(() => {})));
      mine.clear();
    },
  };
  return new Proxy(real, {
    get(target, property, receiver) {
      if (Object.hasOwn(handle, property)) return handle[property as keyof typeof handle];
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A fresh browser profile (its own cookies) with a phone-sized or desktop viewport. */
export async function newContext(browser: Browser, options: { phone?: boolean } = {}): Promise<BrowserContext> {
  const context = await browser.newContext(
    options.phone ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } : { viewport: { width: 1280, height: 900 } },
  );
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(30_000);
  return context;
}

/** Saves a screenshot as test/screenshots/<name>.png: the whole page, or just what is in view. */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? true });
  return path;
}

/** Signs in through the form, as a person would. */
export async function signIn(page: Page, origin: string, username: string, password = TEST_PASSWORD): Promise<void> {
  await page.goto(`${origin}/login`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: false }).first().fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${origin}/`);
}

/**
 * Collects script errors and console errors other than HTTP statuses (a 401
 * or 404 page is a page, not a fault), so a test can assert the page ran
 * clean: a CSP violation shows up here.
 */
export function watchPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource: the server responded with a status of")) {
      errors.push(`console: ${message.text()}`);
    }
  });
  return errors;
}

/**
 * A small accessibility audit of the page as rendered: one h1; every form
 * control has a label; every SVG chart has a title; links and buttons have
 * a name; and text meets WCAG AA contrast (4.5:1, or 3:1 for large text)
 * against the first opaque background behind it. Returns the problems found.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const describe = (el: Element) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.getAttribute("name") ? `[name=${el.getAttribute("name")}]` : ""}`;
    const h1s = document.querySelectorAll("h1").length;
    if (h1s !== 1) problems.push(`${h1s} h1 elements`);
    for (const el of document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>("input:not([type=hidden]), select, textarea")) {
      if (el.getClientRects().length === 0) continue; // not rendered (e.g. a hidden username for password managers)
      if (el.labels?.length === 0 && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby")) problems.push(`no label: ${describe(el)}`);
    }
    for (const el of document.querySelectorAll("a, button")) {
      const name = (el.textContent ?? "").trim() || el.getAttribute("aria-label") || el.getAttribute("title");
      if (!name) problems.push(`no name: ${describe(el)}`);
    }
    for (const svg of document.querySelectorAll("main svg")) {
      if (svg.getAttribute("aria-hidden") === "true") continue;
      if (!svg.querySelector("title") && !svg.getAttribute("aria-label")) problems.push(`svg without title`);
    }
    const rgb = (value: string) => (value.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) => {
      const channel = (c: number) => {
        const s = c / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r!) + 0.7152 * channel(g!) + 0.0722 * channel(b!);
    };
    const background = (el: Element | null): number[] => {
      for (let node = el; node; node = node.parentElement) {
        const [r, g, b, a = 1] = rgb(getComputedStyle(node).backgroundColor);
        if (a > 0.9) return [r!, g!, b!];
      }
      return [255, 255, 255];
    };
    const seen = new Set<string>();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      if (!el || !node.textContent?.trim() || el.closest("svg, .visually-hidden, .skip, option")) continue;
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || style.display === "none" || el.getClientRects().length === 0) continue;
      const fg = rgb(style.color);
      const bg = background(el);
      const [l1, l2] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
      const ratio = (l1! + 0.05) / (l2! + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) {
        const key = `${style.color} on rgb(${bg.join(", ")})`;
        if (!seen.has(key)) {
          seen.add(key);
          problems.push(`contrast ${ratio.toFixed(2)}: ${key} at ${describe(el)} "${node.textContent.trim().slice(0, 30)}"`);
        }
      }
    }
    return problems;
  });
}
