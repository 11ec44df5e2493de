/**
 * Accounts in a real browser against a real instance: first-run setup with
 * the one-time code from the server's log, invite-only sign-up, settings,
 * API tokens that work until revoked, the admin page and its 403 for others,
 * and the admin CLI's registration and invite commands.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import { startInstance, type TestInstance } from "./harness.ts";

const PASSWORD = "a long enough password";

async function fieldError(page: Page, id: string): Promise<string | null> {
  return page.locator(`#${id}-error`).textContent();
}

describe("accounts in the browser", () => {
  let instance: TestInstance;
  let browser: Browser;
  let adminContext: BrowserContext;
  let admin: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    [instance, browser] = await Promise.all([startInstance(), launchBrowser()]);
    adminContext = await newContext(browser);
    admin = await adminContext.newPage();
    errors.push(...watchPageErrors(admin));
  });
  afterAll(async () => {
    await browser?.close();
    await instance?.destroy();
  });

  it("creates the first admin at /setup only with the code from the server's log", async () => {
    const match = /setup code '?([0-9a-f]{4}(?:-[0-9a-f]{4}){4})/.exec(instance.log());
    expect(match, instance.log()).not.toBeNull();
    const code = match![1]!;

    await admin.goto(`${instance.origin}/setup`);
    expect(await admin.getByRole("heading", { level: 1 }).textContent()).toBe("Set up this instance");
    expect(await admin.locator("main").textContent()).toContain("fedalign admin user create <name> --admin --password-stdin --data <dir>");

    // A stranger without the code gets nowhere.
    await admin.getByLabel("Setup code").fill("0000-0000-0000-0000-0000");
    await admin.getByLabel("Username").fill("ada");
    await admin.getByLabel("Display name").fill("Ada Lovelace");
    await admin.locator("#password").fill(PASSWORD);
    await admin.locator("#passwordRepeat").fill(PASSWORD);
    await admin.getByRole("button", { name: "Create the admin account" }).click();
    expect(await fieldError(admin, "setupCode")).toContain("is not the code this server printed");
    expect(await admin.getByLabel("Username").inputValue()).toBe("ada");
    expect(await admin.locator("#password").inputValue()).toBe("");

    await admin.getByLabel("Setup code").fill(code);
    await admin.locator("#password").fill(PASSWORD);
    await admin.locator("#passwordRepeat").fill(PASSWORD);
    await screenshot(admin, "accounts-setup");
    await admin.getByRole("button", { name: "Create the admin account" }).click();
    await admin.waitForURL(`${instance.origin}/admin`);
    expect(await admin.getByRole("status").textContent()).toContain("you are this instance's admin");
    expect(await admin.getByRole("heading", { level: 1 }).textContent()).toBe("Administration");

    // The code is spent: the page says so and the API refuses it.
    const other = await newContext(browser);
    const page = await other.newPage();
    await page.goto(`${instance.origin}/setup`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("This instance is set up");
    await other.close();
    const again = await instance.api("POST", "/setup", { body: { setupCode: code, username: "mallory", password: PASSWORD } });
    expect(again.status).toBe(409);
    const me = await instance.api<{ users: number }>("GET", "/instance");
    expect(me.body.users).toBe(1);
  });

  it("lets an admin make sign-up invite-only; a person signs up with an invite and cannot without one", async () => {
    // Closed by default.
    const visitorContext = await newContext(browser);
    const visitor = await visitorContext.newPage();
    errors.push(...watchPageErrors(visitor));
    await visitor.goto(`${instance.origin}/signup`);
    expect(await visitor.locator("main").textContent()).toContain("Sign-up is closed on this instance");
    expect(await visitor.getByRole("button", { name: "Create my account" }).count()).toBe(0);

    await admin.goto(`${instance.origin}/admin`);
    await admin.getByLabel("Who may sign up").selectOption("invite");
    await admin.getByRole("button", { name: "Save registration mode" }).click();
    expect(await admin.getByRole("status").textContent()).toBe("Registrations are now by invitation.");
    await admin.getByLabel("Number of uses").fill("1");
    await admin.getByLabel("Expires after").selectOption("7d");
    await admin.getByRole("button", { name: "Create invite" }).click();
    const notice = (await admin.getByRole("status").textContent()) ?? "";
    const inviteCode = /Created the invite (\S+)\.$/.exec(notice)?.[1];
    expect(inviteCode, notice).toBeTruthy();
    expect(await admin.locator("table.invites tbody tr").first().textContent()).toContain("0 of 1");
    await screenshot(admin, "accounts-admin");

    await visitor.goto(`${instance.origin}/signup`);
    await visitor.getByLabel("Invite code").fill("not-a-real-code");
    await visitor.getByLabel("Username").fill("grace");
    await visitor.getByLabel("Display name").fill("Grace Hopper");
    await visitor.locator("#password").fill(PASSWORD);
    await visitor.locator("#passwordRepeat").fill(PASSWORD);
    await visitor.getByRole("button", { name: "Create my account" }).click();
    expect(await fieldError(visitor, "inviteCode")).toContain("is not a valid invite code");
    expect(await visitor.getByLabel("Invite code").getAttribute("aria-invalid")).toBe("true");

    await visitor.getByLabel("Invite code").fill(inviteCode!);
    await visitor.getByLabel("Username").fill("ada");
    await visitor.locator("#password").fill(PASSWORD);
    await visitor.locator("#passwordRepeat").fill("something else");
    await visitor.getByRole("button", { name: "Create my account" }).click();
    expect(await fieldError(visitor, "passwordRepeat")).toBe("does not match the password");

    await visitor.locator("#password").fill(PASSWORD);
    await visitor.locator("#passwordRepeat").fill(PASSWORD);
    await visitor.getByRole("button", { name: "Create my account" }).click();
    expect(await fieldError(visitor, "username")).toBe("is already taken; choose another");
    await screenshot(visitor, "accounts-signup");

    // The failed attempts did not spend the single-use invite.
    await visitor.getByLabel("Username").fill("grace");
    await visitor.locator("#password").fill("short");
    await visitor.locator("#passwordRepeat").fill("short");
    await visitor.getByRole("button", { name: "Create my account" }).click();
    expect(await fieldError(visitor, "password")).toBe("must be at least 8 characters");
    await visitor.locator("#password").fill(PASSWORD);
    await visitor.locator("#passwordRepeat").fill(PASSWORD);
    await visitor.getByRole("button", { name: "Create my account" }).click();
    await visitor.waitForURL(`${instance.origin}/`);
    expect(await visitor.getByRole("status").textContent()).toContain("Welcome, Grace Hopper!");
    expect(await visitor.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "grace" }).isVisible()).toBe(true);

    // The API answers the same way, naming the field.
    const without = await instance.api<{ issues: { path: string; message: string }[] }>("POST", "/signup", { body: { username: "hedy", password: PASSWORD } });
    expect(without.status).toBe(400);
    expect(without.body.issues).toEqual([{ path: "inviteCode", message: "is required: sign-up on this instance is by invitation" }]);

    // Now used up.
    const third = await instance.api("POST", "/signup", { body: { username: "hedy", password: PASSWORD, inviteCode } });
    expect(third.status).toBe(400);
    await admin.goto(`${instance.origin}/admin`);
    const row = await admin.locator("table.invites tbody tr").first().textContent();
    expect(row).toContain("1 of 1");
    expect(row).toContain("used up");
    expect(await admin.locator("main").textContent()).toContain("@grace@");
    await visitorContext.close();
  });

  it("changes the display name and password in settings, and makes and revokes API tokens", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    errors.push(...watchPageErrors(page));
    await signIn(page, instance.origin, "grace", PASSWORD);

    await page.goto(`${instance.origin}/settings`);
    await page.getByLabel("Display name").fill("Rear Admiral Grace Hopper");
    await page.getByRole("button", { name: "Save display name" }).click();
    expect(await page.getByRole("status").textContent()).toBe("Your display name is saved.");
    expect(await page.getByLabel("Display name").inputValue()).toBe("Rear Admiral Grace Hopper");

    await page.getByLabel("Current password").fill("wrong password");
    await page.locator("#newPassword").fill("another long password");
    await page.locator("#newPasswordRepeat").fill("another long password");
    await page.getByRole("button", { name: "Change password" }).click();
    expect(await fieldError(page, "currentPassword")).toBe("is wrong");
    await screenshot(page, "accounts-settings");
    await page.getByLabel("Current password").fill(PASSWORD);
    await page.locator("#newPassword").fill("another long password");
    await page.locator("#newPasswordRepeat").fill("another long password");
    await page.getByRole("button", { name: "Change password" }).click();
    expect(await page.getByRole("status").textContent()).toContain("Your password is changed");
    const login = await instance.api("POST", "/tokens", { body: { username: "grace", password: "another long password" } });
    expect(login.status).toBe(201);

    await page.goto(`${instance.origin}/settings/tokens`);
    await page.getByLabel("Name").fill("my script");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = await page.locator("#new-token").inputValue();
    expect(token).toMatch(/^fda_/);
    expect(await page.locator("main table").textContent()).toContain("my script");
    await screenshot(page, "accounts-tokens");

    const me = await instance.api<{ username: string; displayName: string }>("GET", "/me", { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: "grace", displayName: "Rear Admiral Grace Hopper" });

    await page.goto(`${instance.origin}/settings/tokens`);
    expect(await page.locator("#new-token").count()).toBe(0);
    // The API call above used it, so it has a last use now.
    expect(await page.locator("main table tr", { hasText: "my script" }).textContent()).not.toContain("never");
    await page.getByRole("button", { name: "Revoke my script" }).click();
    expect(await page.getByRole("status").textContent()).toContain("Revoked the token “my script”");
    expect((await instance.api("GET", "/me", { token })).status).toBe(401);
    await context.close();
  });

  it("answers /admin with a 403 page for members and visitors", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const response = await page.goto(`${instance.origin}/admin`);
    expect(response?.status()).toBe(403);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Admins only");
    await signIn(page, instance.origin, "grace", "another long password");
    expect(await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).count()).toBe(0);
    const member = await page.goto(`${instance.origin}/admin`);
    expect(member?.status()).toBe(403);
    expect(await page.locator("main").textContent()).toContain("your account is not one");
    await context.close();
    expect(errors).toEqual([]);
  });

  it("sets registrations and creates invites from the admin CLI", async () => {
    const closed = await instance.cli(["admin", "registrations", "closed", "--data", instance.dataDir]);
    expect(closed.stdout.trim()).toBe("Registrations are now closed.");
    const refused = await instance.api<{ detail: string }>("POST", "/signup", { body: { username: "hedy", password: PASSWORD } });
    expect(refused.status).toBe(403);

    const adaToken = await instance.api<{ token: string }>("POST", "/tokens", { body: { username: "ada", password: PASSWORD } });
    const invite = await instance.api("PUT", "/registration", { token: adaToken.body.token, body: { mode: "invite" } });
    expect(invite.status).toBe(200);
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const created = await instance.cli(["admin", "invite", "create", "--uses", "2", "--expires", expires, "--data", instance.dataDir]);
    expect(created.code).toBe(0);
    const code = created.stdout.trim();
    const signup = await instance.api<{ username: string }>("POST", "/signup", { body: { username: "hedy", password: PASSWORD, inviteCode: code } });
    expect(signup.status).toBe(201);
    const list = await instance.api<{ code: string; uses: number; maxUses: number; expiresAt: string; state: string }[]>("GET", "/invites", {
      token: adaToken.body.token,
    });
    expect(list.body.find((invite) => invite.code === code)).toMatchObject({ uses: 1, maxUses: 2, expiresAt: expires, state: "active" });

    const past = await instance.cli(["admin", "invite", "create", "--expires", "2001-01-01T00:00:00Z", "--data", instance.dataDir]);
    expect(past.code).not.toBe(0);
    expect(past.stderr).toContain("must be in the future");
  });
});
