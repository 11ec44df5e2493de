/**
 * Policy pages in a real browser against two real instances: a steward on A
 * imports the Model Spec (its first part, to keep the pages small), publishes
 * v1, edits a clause and publishes v2; on B, which follows the policy, a
 * reader sees v2, picks v1, and the diff page marks the edited words; an
 * annotation made in B's browser (on the clause's page) shows on the clause's
 * page on A and is counted on A's policy page; and a hostile annotation from
 * B (script tags, javascript: links) renders inert on A.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import { waitFor } from "./harness.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

interface PolicyDetail {
  id: number;
  iri: string;
  title: string;
  versions: { number: number; iri: string }[];
}
interface Clause {
  id: string;
  title: string;
  text: string;
}

let a: LocalInstance;
let b: LocalInstance;
let browser: Browser;
let alice: { token: string };
let bob: { token: string; actor: string };
let fixtureDir: string;
let specPath: string;
let policyA: PolicyDetail;
let policyB: PolicyDetail;
let edited: Clause;
const ADDED = "Stewards review this clause every quarter.";

beforeAll(async () => {
  [a, b, browser] = await Promise.all([startLocalInstance(), startLocalInstance(), launchBrowser()]);
  [alice, bob] = await Promise.all([a.createUser("alice"), b.createUser("bob")]);
  await createCommunity(a.instance.db, { handle: "nurses", name: "Nurses of the North", steward: await getUserByUsername(a.instance.db, "alice") });
  // The Model Spec's first half (up to "Seek the truth together"): 27 clauses at four authority levels, with examples.
  const spec = readFileSync(new URL("./fixtures/model_spec/model_spec.md", import.meta.url), "utf8");
  fixtureDir = mkdtempSync(join(tmpdir(), "fedalign-web-policies-"));
  specPath = join(fixtureDir, "model_spec.md");
  writeFileSync(specPath, spec.slice(0, spec.indexOf("\n# Seek the truth together")));
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([a?.destroy(), b?.destroy()]);
  if (fixtureDir) rmSync(fixtureDir, { recursive: true, force: true });
});

describe("policy pages across two instances", () => {
  it("a steward imports the Model Spec, publishes v1, edits a clause and publishes v2, all in the browser", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    await signIn(page, a.origin, "alice");

    await page.goto(`${a.origin}/actors/nurses/policies`);
    await page.getByRole("link", { name: "New or imported policy" }).click();
    await page.getByLabel("File").setInputFiles(specPath);
    await page.getByRole("button", { name: "Import policy" }).click();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toMatch(/^Imported “.+”$/);
    expect(await page.getByRole("heading", { name: /Not mapped/ }).isVisible()).toBe(true);
    expect(await page.locator("header").textContent()).toContain("Nurses of the North");
    await screenshot(page, "policy-import");

    await page.getByRole("link", { name: "Open the draft" }).click();
    const id = Number(/\/policies\/(\d+)\/draft$/.exec(page.url())![1]);
    const draft = (await a.api<{ clauses: Clause[] }>("GET", `policies/${id}/draft`, { token: alice.token })).body;
    expect(draft.clauses.length).toBeGreaterThan(20);
    expect(await page.locator(".draft-clause").count()).toBe(draft.clauses.length);
    await screenshot(page, "policy-draft");

    await page.getByLabel("Changelog").fill("First version, imported from the Model Spec.");
    await page.getByRole("button", { name: "Publish new version" }).click();
    expect(await page.getByRole("status").textContent()).toContain("Published version 1");
    policyA = (await a.api<PolicyDetail>("GET", `policies/${id}`)).body;

    // B follows the policy before v2, so v2 (and with it v1) reaches B.
    await b.api("POST", "follows", { token: bob.token, body: { target: policyA.iri } });
    await waitFor(async () => (await b.api<{ state: string }[]>("GET", "follows", { token: bob.token })).body[0]?.state === "accepted", {
      what: "B's follow to be accepted",
    });

    // Edit one clause: one word replaced, one sentence added.
    edited = draft.clauses.filter((clause) => clause.text.includes(" the ")).sort((x, y) => x.text.length - y.text.length)[0]!;
    const newText = `${edited.text.replace(" the ", " every ")} ${ADDED}`;
    await page.goto(`${a.origin}/policies/${id}/draft`);
    const clauseBox = page.locator(`[id="edit-${edited.id}"]`);
    await clauseBox.locator("summary").click();
    await clauseBox.getByLabel("Text (Markdown)").fill(newText);
    await clauseBox.getByRole("button", { name: "Save clause" }).click();
    expect(await page.getByRole("status").textContent()).toBe(`Saved clause ${edited.id}.`);

    // An invalid edit is refused with the message beside the field.
    await clauseBox.locator("summary").click();
    await clauseBox.getByLabel("Locales").fill("not a language tag!");
    await clauseBox.getByRole("button", { name: "Save clause" }).click();
    expect(await page.locator(`[id="edit-${edited.id}"] .field-error`).first().textContent()).toContain("BCP 47");

    await page.goto(`${a.origin}/policies/${id}/draft`);
    await page.getByLabel("Changelog").fill("Review every quarter.");
    await page.getByRole("button", { name: "Publish new version" }).click();
    expect(await page.getByRole("status").textContent()).toContain("Published version 2");
    expect(await page.locator(`[id="clause-${edited.id}"]`).textContent()).toContain(ADDED);
    // The policy's IRI and a version's IRI show the same page to a browser.
    await page.goto(policyA.iri);
    expect(await page.locator(".policy-meta").textContent()).toContain("version 2 of 2");
    await page.goto(`${policyA.iri}/versions/1`);
    expect(await page.locator(".policy-meta").textContent()).toContain("version 1 of 2");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("on B, a reader sees v2 of the followed policy, can pick v1, and the diff marks the edited words", async () => {
    policyB = await waitFor(
      async () => {
        const found = await b.api<PolicyDetail>("GET", `policies/lookup?ref=${encodeURIComponent(policyA.iri)}`);
        return found.status === 200 && found.body.versions.length === 2 ? found.body : undefined;
      },
      { what: "B to hold both versions" },
    );
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    await signIn(page, b.origin, "bob");
    await page.goto(`${b.origin}/policies/${policyB.id}`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(policyA.title);
    expect(await page.locator(".policy-meta").textContent()).toContain("version 2 of 2");
    // The owning community, by name, linking to its page on B (which names its handle on A).
    const headerCommunity = page.locator("header .brand-community");
    expect(await headerCommunity.textContent()).toBe("Nurses of the North");
    const communityHref = (await headerCommunity.getAttribute("href"))!;
    expect(communityHref).toMatch(/^\/remote-actors\/\d+$/);
    const communityPage = await (await context.newPage()).goto(`${b.origin}${communityHref}`);
    expect(await communityPage!.text()).toContain(`@nurses@${a.host}`);
    const clause = page.locator(`[id="clause-${edited.id}"]`);
    expect(await clause.textContent()).toContain(ADDED);
    expect(await page.locator(".tag-root").count()).toBeGreaterThan(0);
    // Every element the policy's Markdown opens is closed: the page's footer is not left in italics.
    expect(await page.locator(".site-footer").evaluate((footer) => getComputedStyle(footer).fontStyle)).toBe("normal");
    await screenshot(page, "policy-page");

    await page.getByLabel("Version", { exact: true }).selectOption("1");
    await page.getByRole("button", { name: "Show version" }).click();
    expect(page.url()).toContain("version=1");
    expect(await page.locator(".policy-meta").textContent()).toContain("version 1 of 2");
    expect(await clause.textContent()).not.toContain(ADDED);

    await page.getByRole("link", { name: "Compare versions" }).click();
    const diff = page.locator(`[id="diff-${edited.id}"]`);
    expect(await diff.locator("ins").allTextContents()).toEqual(expect.arrayContaining(["every", expect.stringContaining(ADDED)]));
    expect(await diff.locator("del").allTextContents()).toContain("the");
    expect(await page.locator(".diff-summary").textContent()).toContain("1 edited");
    await screenshot(page, "policy-diff");

    // Readable on a phone: nothing wider than the screen.
    const phone = await newContext(browser, { phone: true });
    const phonePage = await phone.newPage();
    await phonePage.goto(`${b.origin}/policies/${policyB.id}/diff?from=1&to=2`);
    expect(await phonePage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await screenshot(phonePage, "policy-diff-phone");
    await phone.close();
    expect(errors).toEqual([]);
    await context.close();
  });

  it("an annotation made on B in the browser appears on its clause's page on A", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page, b.origin, "bob");
    await page.goto(`${b.origin}/policies/${policyB.id}`);
    // Annotating happens on the clause's page, reached from the clause's title.
    await page.locator(`[id="clause-${edited.id}"] .clause-title a`).first().click();
    expect(new URL(page.url()).pathname).toBe(`/policies/${policyB.id}/clauses/${edited.id}`);
    const form = page.locator("#annotate");
    await form.getByLabel("Motivation").selectOption("object");
    await form.getByLabel("Your annotation").fill("Quarterly is too often for a volunteer community.");
    await form.getByRole("button", { name: "Add annotation" }).click();
    expect(await page.getByRole("status").textContent()).toContain("annotation was added");
    expect(await page.locator("#annotations .annotation").textContent()).toContain("Quarterly is too often");

    const pageA = await context.newPage();
    const atA = pageA.locator("#annotations .annotation");
    await waitFor(
      async () => {
        await pageA.goto(`${a.origin}/policies/${policyA.id}/clauses/${edited.id}`);
        return (await atA.count()) > 0;
      },
      { what: "A to show B's annotation" },
    );
    const shown = await atA.first().textContent();
    expect(shown).toContain("Quarterly is too often for a volunteer community.");
    expect(shown).toContain("Objection");
    expect(shown).toContain("bob");
    expect(shown).toContain(`(${b.host})`);
    await atA.first().scrollIntoViewIfNeeded();
    await screenshot(pageA, "policy-annotations");
    // The policy page counts it under the clause, linking to the clause's page.
    await pageA.goto(`${a.origin}/policies/${policyA.id}`);
    expect(await pageA.locator(`[id="clause-${edited.id}"] .clause-more`).textContent()).toContain("1 annotation");
    await context.close();
  });

  it("renders a hostile annotation from B inert on A: no script, no javascript: link, no dialog", async () => {
    const target = `${policyA.iri}/versions/2/clauses/${edited.id}`;
    const created = await b.api<{ iri: string }>("POST", "annotations", {
      token: bob.token,
      body: {
        target,
        motivation: "suggest-edit",
        text: `<script>window.pwned = 1; alert("text")</script> read <a href="javascript:alert('link')">this</a> or javascript:alert(1)`,
        suggestedText: `[click me](javascript:alert('md')) <script>window.pwned = 2</script> <img src="x" onerror="alert('img')"> <a href="javascript:alert('raw')">raw link</a>`,
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await waitFor(
      async () => (await a.api<{ iri: string }[]>("GET", `annotations?target=${encodeURIComponent(target)}`)).body.some((x) => x.iri === created.body.iri),
      { what: "A to hold the hostile annotation" },
    );

    const context = await newContext(browser);
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const errors = watchPageErrors(page);
    await page.goto(`${a.origin}/policies/${policyA.id}/clauses/${edited.id}`);
    const hostile = page.locator("#annotations .annotation").filter({ hasText: "click me" });
    expect(await hostile.count()).toBe(1);
    // The text arrived as text: shown, not run.
    expect(await hostile.textContent()).toContain("<script>window.pwned = 1;");
    expect(await hostile.locator("script, img, iframe").count()).toBe(0);
    const hrefs = await page.locator(".annotation a").evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute("href") ?? ""));
    expect(hrefs.filter((href) => /^\s*javascript:/i.test(href))).toEqual([]);
    expect(await page.locator("[onerror], [onclick], [onload]").count()).toBe(0);
    // Clicking what looks like a link does nothing either.
    await hostile.getByText("click me").click();
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("lets a steward hide an annotation on A and its author delete theirs on B", async () => {
    const context = await newContext(browser);
    const pageA = await context.newPage();
    await signIn(pageA, a.origin, "alice");
    await pageA.goto(`${a.origin}/policies/${policyA.id}/clauses/${edited.id}`);
    const hostile = pageA.locator("#annotations .annotation").filter({ hasText: "click me" });
    await hostile.getByRole("button", { name: "Hide from this policy" }).click();
    expect(await pageA.getByRole("status").textContent()).toBe("The annotation is hidden from this policy.");
    // Back on the page the button was on.
    expect(new URL(pageA.url()).pathname).toBe(`/policies/${policyA.id}/clauses/${edited.id}`);
    expect(await pageA.locator("#annotations .annotation").filter({ hasText: "click me" }).count()).toBe(0);
    // A steward cannot delete someone else's annotation, only hide it.
    expect(await pageA.getByRole("button", { name: "Delete my annotation" }).count()).toBe(0);

    const pageB = await context.newPage();
    await signIn(pageB, b.origin, "bob");
    await pageB.goto(`${b.origin}/policies/${policyB.id}/clauses/${edited.id}`);
    const mine = pageB.locator("#annotations .annotation").filter({ hasText: "Quarterly is too often" });
    await mine.getByRole("button", { name: "Delete my annotation" }).click();
    expect(await pageB.getByRole("status").textContent()).toContain("deleted");
    expect(await pageB.locator(".annotation").filter({ hasText: "Quarterly is too often" }).count()).toBe(0);
    // The deletion reaches A.
    await waitFor(
      async () => {
        await pageA.goto(`${a.origin}/policies/${policyA.id}/clauses/${edited.id}`);
        return (await pageA.locator(".annotation").filter({ hasText: "Quarterly is too often" }).count()) === 0;
      },
      { what: "A to drop the deleted annotation" },
    );
    await context.close();
  });
});
