/**
 * The web frame in a real browser: every page has the instance's name, a
 * working sign-in, CSRF protection on forms, a strict CSP, error pages, and a
 * layout that fits a phone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import { startInstance, type TestInstance } from "./harness.ts";

describe("web frame", () => {
  let instance: TestInstance;
  let browser: Browser;

  beforeAll(async () => {
    [instance, browser] = await Promise.all([startInstance(), launchBrowser()]);
    await instance.createUser("ada", { admin: true });
  });
  afterAll(async () => {
    await browser?.close();
    await instance?.destroy();
  });

  it("signs in and out through the form, with the instance's name on the page", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    await page.goto(`${instance.origin}/login`);
    await page.getByLabel("Username").fill("ada");
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    expect(await page.getByRole("alert").textContent()).toBe("Wrong username or password.");
    expect(await page.getByLabel("Username").inputValue()).toBe("ada");

    await signIn(page, instance.origin, "ada");
    expect(await page.getByRole("status").textContent()).toBe("Signed in as ada.");
    expect(await page.locator("header").textContent()).toContain(instance.host);
    await screenshot(page, "home-signed-in");

    await page.getByRole("button", { name: "Sign out" }).click();
    expect(await page.getByRole("status").textContent()).toBe("Signed out.");
    expect(await page.getByRole("link", { name: "Sign in" }).isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("brings you back to the page that asked you to sign in, and nowhere else", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${instance.origin}/follow`);
    expect(page.url()).toBe(`${instance.origin}/login?next=%2Ffollow`);
    await page.getByLabel("Username").fill("ada");
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${instance.origin}/follow`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Follow");
    await page.getByRole("button", { name: "Sign out" }).click();

    // A next that leaves the site is ignored.
    await page.goto(`${instance.origin}/login?next=${encodeURIComponent("//evil.example/steal")}`);
    await page.getByLabel("Username").fill("ada");
    await page.getByLabel("Password").fill("correct horse battery staple");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${instance.origin}/`);
    await context.close();
  });

  it("refuses a form posted without its CSRF token, and serves a strict CSP", async () => {
    const response = await fetch(`${instance.origin}/login`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "username=ada&password=correct+horse+battery+staple",
      redirect: "manual",
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("set-cookie") ?? "").not.toContain("fedalign_session");
    expect(await response.text()).toContain("This form has expired");

    const home = await fetch(`${instance.origin}/`);
    expect(home.headers.get("content-security-policy")).toContain("script-src 'self'");
  });

  it("can be used from the keyboard: the first Tab reaches a skip link, then the navigation", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${instance.origin}/`);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    expect(await page.locator(".skip").boundingBox()).not.toBeNull();
    await page.keyboard.press("Enter");
    expect(page.url()).toBe(`${instance.origin}/#main`);
    await page.goto(`${instance.origin}/login`);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(instance.host);
    // Sign in with the keyboard alone.
    await page.getByLabel("Username").focus();
    await page.keyboard.type("ada");
    await page.keyboard.press("Tab");
    await page.keyboard.type("correct horse battery staple");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${instance.origin}/`);
    expect(await page.getByRole("status").textContent()).toBe("Signed in as ada.");
    await context.close();
  });

  it("answers unknown pages with a 404 page, and fits a phone screen", async () => {
    const context = await newContext(browser, { phone: true });
    const page = await context.newPage();
    const response = await page.goto(`${instance.origin}/no/such/page`);
    expect(response?.status()).toBe(404);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Not found");
    await page.goto(`${instance.origin}/`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "home-phone");
    await context.close();
  });
});
