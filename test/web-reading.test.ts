/**
 * Reading a long policy in a real browser, across two real instances: the
 * Model Spec (59 clauses) is published on A (version 1, then version 2 with
 * one clause edited and three clauses given a context of use), and followed
 * from B. B's reader finds their way with the contents sidebar (sticky on a
 * desktop, folded on a phone), opens a clause page of the followed policy
 * (examples, history with a link to the diff, a pinned version), searches the
 * policy and the whole instance (matched words marked), and filters by
 * authority level and context of use without JavaScript. Clauses keep the
 * author's order. Every new page passes the accessibility audit and fits a
 * 390 px phone; screenshots of each, desktop and phone.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { accessibilityProblems, launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import { waitFor } from "./harness.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { importCommunityPolicy, publishVersion } from "../src/app/policies.ts";
import { createCommunity } from "../src/communities.ts";
import type { PolicyContent } from "../src/policies/content.ts";
import { getDraft, getPolicyById, saveDraft } from "../src/policies/policies.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

let a: LocalInstance;
let b: LocalInstance;
let browser: Browser;
let bob: { token: string };
let content: PolicyContent;
let policyIri: string;
let policyB: number;
const ADDED = "Stewards review this clause every quarter.";
let edited: string;
const HEALTH = ["protect_privacy", "avoid_info_hazards"];

beforeAll(async () => {
  [a, b, browser] = await Promise.all([startLocalInstance(), startLocalInstance(), launchBrowser()]);
  const [, bobUser] = await Promise.all([a.createUser("alice"), b.createUser("bob")]);
  bob = bobUser;
  const alice = (await getUserByUsername(a.instance.db, "alice"))!;
  await createCommunity(a.instance.db, { handle: "nurses", name: "Nurses of the North", steward: alice });
  const source = readFileSync(new URL("./fixtures/model_spec/model_spec.md", import.meta.url), "utf8");
  const { policy } = await importCommunityPolicy(a.instance.context, alice, { community: "nurses", format: "modelspec", source });
  policyIri = policy.iri;
  await publishVersion(a.instance.context, alice, policy.id, { message: "Imported." });
  // B follows before version 2, so version 2 (and with it version 1) reaches B.
  await b.api("POST", "follows", { token: bob.token, body: { target: policy.iri } });
  await waitFor(async () => (await b.api<{ state: string }[]>("GET", "follows", { token: bob.token })).body[0]?.state === "accepted", { what: "B's follow to be accepted" });

  const draft = getDraft(await getPolicyById(a.instance.db, policy.id));
  for (const clause of draft.clauses) {
    if (HEALTH.includes(clause.id)) clause.context = { domain: ["health"] };
  }
  draft.clauses.find((clause) => clause.id === "be_clear")!.context = { domain: ["education"] };
  edited = draft.clauses[10]!.id;
  draft.clauses[10]!.text += `\n\n${ADDED}`;
  await saveDraft(a.instance.db, await getPolicyById(a.instance.db, policy.id), draft);
  await publishVersion(a.instance.context, alice, policy.id, { message: "Contexts, and a quarterly review." });
  content = draft;
  policyB = await waitFor(
    async () => {
      const found = await b.api<{ id: number; versions: unknown[] }>("GET", `policies/lookup?ref=${encodeURIComponent(policyIri)}`);
      return found.status === 200 && found.body.versions.length === 2 ? found.body.id : undefined;
    },
    { what: "B to hold both versions" },
  );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([a?.destroy(), b?.destroy()]);
});

const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe("reading a followed 59-clause policy on B", () => {
  it("shows every section and clause in a sticky contents sidebar, in the author's order", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    await signIn(page, b.origin, "bob");
    await page.goto(`${b.origin}/policies/${policyB}`);
    const contents = page.getByRole("navigation", { name: "Contents" });
    expect(await contents.isVisible()).toBe(true);
    const sidebarLinks = contents.locator(".contents-clauses a");
    expect(await sidebarLinks.count()).toBe(content.clauses.length);
    // The author's order, not grouped by authority level: on the page and in the contents.
    const articleIds = await page.locator("article.clause").evaluateAll((articles) => articles.map((article) => article.id.replace(/^clause-/, "")));
    expect(articleIds).toEqual(content.clauses.map((clause) => clause.id));
    expect(await sidebarLinks.evaluateAll((links) => links.map((link) => link.getAttribute("href")))).toEqual(content.clauses.map((clause) => `#clause-${clause.id}`));
    // Examples are on the clause pages, not in this one.
    expect(await page.locator("details.example").count()).toBe(0);
    await screenshot(page, "reading-policy", { fullPage: false });

    // Jump to a clause far down: it comes into view, and the contents stay beside it.
    const far = content.clauses[50]!;
    await contents.getByRole("link", { name: far.title, exact: true }).click();
    expect(page.url()).toContain(`#clause-${far.id}`);
    expect(await page.locator(`[id="clause-${far.id}"]`).isVisible()).toBe(true);
    const box = await page.locator(".reading-sidebar").boundingBox();
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.y).toBeLessThan(50);
    await screenshot(page, "reading-policy-scrolled", { fullPage: false });
    expect(errors).toEqual([]);
    await context.close();
  });

  it("opens a clause page of the followed policy: examples, history, the diff, a pinned version", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    await page.goto(`${b.origin}/policies/${policyB}`);
    const clause = content.clauses.find((c) => c.id === edited)!;
    await page.locator(`[id="clause-${edited}"] .clause-title a`).click();
    expect(new URL(page.url()).pathname).toBe(`/policies/${policyB}/clauses/${edited}`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toContain(clause.title);
    expect(await page.locator(".clause-text").textContent()).toContain(ADDED);
    expect(await page.locator("details.example").count()).toBe(clause.examples.length);
    const history = page.locator(".clause-history li");
    expect(await history.allTextContents()).toEqual([expect.stringContaining("Added in version 1"), expect.stringContaining("Changed in version 2")]);
    expect(await history.nth(1).textContent()).toContain("text");
    await screenshot(page, "reading-clause");

    await history.nth(1).getByRole("link", { name: "what changed from version 1" }).click();
    expect(new URL(page.url()).pathname).toBe(`/policies/${policyB}/diff`);
    expect(new URL(page.url()).searchParams.get("from")).toBe("1");
    expect(await page.locator(`[id="diff-${edited}"] ins`).allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining(ADDED)]));

    // The pinned address of version 1 shows the clause as it was.
    await page.goto(`${b.origin}/policies/${policyB}/versions/1/clauses/${edited}`);
    expect(await page.locator(".clause-version").textContent()).toContain("As in version 1 of 2");
    expect(await page.locator(".clause-text").textContent()).not.toContain(ADDED);
    // A clause that does not exist is a 404 page, not an error.
    const missing = await page.goto(`${b.origin}/policies/${policyB}/clauses/no_such_clause`);
    expect(missing!.status()).toBe(404);
    // A's clause IRI shows the same clause to a browser.
    await page.goto(`${policyIri}/versions/2/clauses/${edited}`);
    expect(await page.locator(".clause-text").textContent()).toContain(ADDED);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("searches the policy and the whole instance, and marks the matched words", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    await page.goto(`${b.origin}/policies/${policyB}`);
    await page.getByRole("search", { name: "Search this policy" }).getByLabel("Search this policy").fill("privacy");
    await page.getByRole("search", { name: "Search this policy" }).getByRole("button", { name: "Search" }).click();
    expect(new URL(page.url()).pathname).toBe(`/policies/${policyB}/search`);
    const results = page.locator(".search-results > li");
    // The clause named for privacy comes first.
    expect(await results.first().locator("h2").textContent()).toBe("Protect people's privacy");
    expect((await page.locator(".search-results mark").allTextContents()).every((word) => /^privacy$/i.test(word))).toBe(true);
    await screenshot(page, "reading-search");
    await results.first().locator("h2 a").click();
    expect(new URL(page.url()).pathname).toBe(`/policies/${policyB}/clauses/protect_privacy`);
    expect(await page.locator(".clause-text mark").count()).toBeGreaterThan(0);

    // Across the instance: the followed policy's clauses, each naming its policy.
    await page.goto(`${b.origin}/search?q=${encodeURIComponent("harmful instructions")}`);
    expect(await results.count()).toBeGreaterThan(0);
    expect(await results.first().locator(".search-hit-where").textContent()).toContain(content.title);
    // Hostile queries are words, not syntax: a page, never an error.
    for (const q of ['"', "*", "NEAR(", "privacy OR", "(((("]) {
      const response = await page.goto(`${b.origin}/search?q=${encodeURIComponent(q)}`);
      expect(response!.status(), q).toBe(200);
    }
    expect(errors).toEqual([]);
    await context.close();
  });

  it("filters by authority level and context of use without JavaScript", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${b.origin}/policies/${policyB}`);
    await page.locator(".clause-filters summary").click();
    await page.getByLabel("Root").check();
    await page.getByRole("button", { name: "Show clauses" }).click();
    expect(new URL(page.url()).searchParams.getAll("authority")).toEqual(["root"]);
    const roots = content.clauses.filter((clause) => clause.authority === "root").map((clause) => clause.id);
    expect(await page.locator("article.clause").evaluateAll((articles) => articles.map((article) => article.id.replace(/^clause-/, "")))).toEqual(roots);
    expect(await page.locator(".contents-clauses a").count()).toBe(roots.length);

    // Context of use: clauses for health, and those that name no domain (they apply everywhere); not education's.
    await page.getByLabel("Root").uncheck();
    await page.getByLabel("Domain").selectOption("health");
    await page.getByRole("button", { name: "Show clauses" }).click();
    const shown = await page.locator("article.clause").evaluateAll((articles) => articles.map((article) => article.id.replace(/^clause-/, "")));
    expect(shown).toEqual(expect.arrayContaining(HEALTH));
    expect(shown).not.toContain("be_clear");
    expect(shown.length).toBe(content.clauses.length - 1);
    expect(await page.locator(".clause-filters summary").textContent()).toContain(`showing ${shown.length} of ${content.clauses.length}`);
    await screenshot(page, "reading-filtered", { fullPage: false });
    // A level that does not exist is said in words.
    await page.goto(`${b.origin}/policies/${policyB}?authority=emperor`);
    expect(await page.locator(".clause-filters .field-error").textContent()).toContain("no authority level called “emperor”");
    await context.close();
  });

  it("fits a phone: the contents fold away, and every reading page is as wide as the screen", async () => {
    const context = await newContext(browser, { phone: true });
    const page = await context.newPage();
    await page.goto(`${b.origin}/policies/${policyB}`);
    const contents = page.getByRole("navigation", { name: "Contents" });
    expect(await contents.isVisible()).toBe(false);
    await screenshot(page, "reading-policy-phone", { fullPage: false });
    await page.getByText(/^Contents \(\d+ clauses\)$/).click();
    expect(await contents.isVisible()).toBe(true);
    await screenshot(page, "reading-contents-phone", { fullPage: false });
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    for (const [path, name] of [
      [`/policies/${policyB}/clauses/${edited}`, "reading-clause-phone"],
      [`/policies/${policyB}/search?q=privacy`, "reading-search-phone"],
      [`/search?q=honest`, "reading-search-all-phone"],
    ] as const) {
      await page.goto(`${b.origin}${path}`);
      expect(await overflow(page), path).toBeLessThanOrEqual(0);
      await screenshot(page, name, { fullPage: false });
    }
    await context.close();
  });

  it("passes the accessibility audit on every new page, signed in and out", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const paths = [
      `/policies/${policyB}`,
      `/policies/${policyB}?authority=root&domain=health`,
      `/policies/${policyB}?details=all`,
      `/policies/${policyB}/clauses/${edited}`,
      `/policies/${policyB}/versions/1/clauses/${edited}`,
      `/policies/${policyB}/search?q=privacy`,
      `/search?q=harmful+instructions`,
      `/search`,
    ];
    for (const signedIn of [false, true]) {
      if (signedIn) await signIn(page, b.origin, "bob");
      for (const path of paths) {
        await page.goto(`${b.origin}${path}`);
        expect(await accessibilityProblems(page), `${path}${signedIn ? " (signed in)" : ""}`).toEqual([]);
      }
    }
    await context.close();
  });
});
