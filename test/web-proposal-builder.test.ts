/**
 * The proposal builder and how diffs read, in a real browser with
 * JavaScript off, across two instances over loopback: a member of A's
 * community starts from a clause's current text (prefilled), makes five
 * changes (a one-word edit, a context change, an added clause with an
 * example, a removal, a move), previews, goes back, and opens the proposal.
 * The proposal page shows the formatted diff (one marked word, unchanged
 * paragraphs folded, the context change in words); a member of B who
 * follows the community sees the proposal with every change named.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { accessibilityProblems, launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import { waitFor, type FollowView } from "./harness.ts";
import { ManualClock, startLocalInstance, type LocalInstance } from "./local-instance.ts";
import { changeSetFromContents } from "../src/policies/changeset.ts";
import { policyContentSchema } from "../src/policies/content.ts";

const ESCALATE = [
  "When someone describes chest pain, tell them to call emergency services at once.",
  "Do not try to diagnose the cause. Say that urgent symptoms need a person who can examine them.",
  "Stay with the user until they say help is on the way.",
].join("\n\n");

const CONTENT = {
  title: "Ward Assistant Policy",
  licence: "CC-BY-4.0",
  clauses: [
    { id: "escalate", title: "Escalate emergencies", authority: "root", text: ESCALATE },
    { id: "tone", title: "Tone", authority: "guideline", text: "Be calm." },
    { id: "privacy", title: "Privacy", authority: "user", text: "Never repeat a patient's name back to others." },
    { id: "old-rule", title: "Old rule", authority: "guideline", text: "Mention the ward's opening hours." },
  ],
};

const clock = new ManualClock();
let a: LocalInstance;
let b: LocalInstance;
let browser: Browser;
let policyId: number;
let proposalUrl: string;
let tokens: { steward: string; member: string };
const pageErrors: string[][] = [];

/** A signed-in page with JavaScript off: everything here must work without it. */
async function memberPage(options: { phone?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({
    javaScriptEnabled: false,
    ...(options.phone ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } : { viewport: { width: 1280, height: 900 } }),
  });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  pageErrors.push(watchPageErrors(page));
  await signIn(page, a.origin, "mo");
  return page;
}

async function noProblems(page: Page, what: string) {
  expect(await accessibilityProblems(page), what).toEqual([]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth), `${what} fits its width`).toBeLessThanOrEqual(page.viewportSize()!.width);
}

beforeAll(async () => {
  [a, b, browser] = await Promise.all([startLocalInstance({ clock }), startLocalInstance({ clock }), launchBrowser()]);
  const [steward, member, bob] = await Promise.all([a.createUser("stella"), a.createUser("mo"), b.createUser("bob")]);
  expect((await a.api("POST", "communities", { token: steward.token, body: { handle: "nurses", name: "Night Nurses" } })).status).toBe(201);
  await a.api("PUT", "communities/nurses/members/mo", { token: steward.token, body: { role: "member" } });
  await b.api("POST", "follows", { token: bob.token, body: { target: `@nurses@${a.host}` } });
  await waitFor(async () => (await b.api<FollowView[]>("GET", "follows", { token: bob.token })).body[0]?.state === "accepted", { what: "B's follow to be accepted" });
  policyId = (await a.api<{ id: number }>("POST", "policies", { token: steward.token, body: { community: "nurses", slug: "ward", content: CONTENT } })).body.id;
  expect((await a.api("POST", `policies/${policyId}/publish`, { token: steward.token, body: {} })).status).toBe(201);
  await waitFor(async () => (await b.api("GET", `policies/lookup?ref=${encodeURIComponent(`${a.origin}/actors/nurses/policies/ward`)}`)).status === 200, {
    what: "B to hold the policy",
  });
  tokens = { steward: steward.token, member: member.token };
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([a?.destroy(), b?.destroy()]);
});

/** Clicks a form's button and waits for the page it leads to (a full page load: JavaScript is off). */
async function submit(page: Page, button: string) {
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: button, exact: true }).click()]);
}

async function startFrom(page: Page, clauseId: string) {
  await page.getByLabel("Start from the current text of").selectOption(clauseId);
  await submit(page, "Edit this clause");
}

async function saveChange(page: Page, button = "Save this change") {
  await submit(page, button);
  expect(page.url()).toMatch(/\/proposals\/new#changes$/);
}

const changeCount = async (page: Page) => (await page.locator("#changes-heading").textContent())?.replace(/\D+/g, "");

describe("the proposal builder", () => {
  it("builds a proposal of five changes from prefilled clause text, previews it, goes back losing nothing, and opens it", async () => {
    const page = await memberPage();
    await page.goto(`${a.origin}/policies/${policyId}/proposals`);
    await page.getByRole("link", { name: "Propose a change" }).click();
    expect(await changeCount(page)).toBe("0");
    await noProblems(page, "the empty builder");

    // 1. A one-word edit, starting from the clause's current text: nothing to retype.
    await startFrom(page, "escalate");
    const text = page.getByLabel("Text (Markdown)");
    expect(await text.inputValue()).toBe(ESCALATE);
    expect(await page.getByLabel("Title", { exact: true }).inputValue()).toBe("Escalate emergencies");
    expect(await page.getByLabel("Authority level").inputValue()).toBe("root");
    await noProblems(page, "the clause editor");
    await screenshot(page, "proposal-builder-editor");
    await text.fill(ESCALATE.replace("urgent symptoms", "serious symptoms"));
    await saveChange(page);
    expect(await page.getByRole("status").textContent()).toContain("Change to escalate saved");

    // 2. The context of use, prefilled empty ("any"), now health and English.
    await startFrom(page, "tone");
    await page.getByLabel("Domains").fill("health");
    await page.getByLabel("Locales").fill("en");
    await saveChange(page);

    // 3. A new clause with an example, placed after "tone".
    await page.getByRole("link", { name: "Add a new clause" }).click();
    await page.getByLabel("Clause id").fill("cite-sources");
    await page.getByLabel("Title", { exact: true }).fill("Cite sources");
    await page.getByLabel("Text (Markdown)").fill("Name the *guideline* you rely on.");
    await page.getByLabel("Place it after").selectOption("tone");
    await page.getByLabel("The user's message").fill("Is this dose safe?");
    await page.getByLabel("A good response").fill("The ward's dosing guide says…");
    await saveChange(page, "Add this clause to the proposal");

    // 4 and 5. A removal and a move.
    await page.getByLabel("Clause to remove").selectOption("old-rule");
    await submit(page, "Remove it in this proposal");
    await page.getByLabel("Clause to move").selectOption("privacy");
    await page.getByLabel("Move it after").selectOption("^");
    await submit(page, "Move it");
    expect(await changeCount(page)).toBe("5");
    expect(await page.locator(".builder-changes").textContent()).toContain("edited (context)");

    // Editing a clause again shows it with the changes so far.
    await page.locator(".builder-changes li", { hasText: "#escalate" }).getByRole("link", { name: "Edit again" }).click();
    expect(await page.getByLabel("Text (Markdown)").inputValue()).toContain("serious symptoms");
    await noProblems(page, "the builder with five changes");
    await screenshot(page, "proposal-builder");

    // The preview shows the diff; going back loses nothing.
    await page.getByRole("link", { name: "Preview and open the proposal" }).click();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toContain("Preview your proposal");
    await expectReadableDiff(page);
    await noProblems(page, "the preview");
    await screenshot(page, "proposal-builder-preview");
    await page.goBack();
    await page.reload();
    expect(await changeCount(page)).toBe("5");
    await page.getByRole("link", { name: "Preview and open the proposal" }).click();

    await page.getByLabel("Title", { exact: false }).first().fill("Clearer escalation and sources");
    await page.getByLabel("Why").fill("Five small fixes from the night shift.");
    await submit(page, "Open the proposal for votes");
    proposalUrl = page.url();
    expect(await page.getByRole("status").textContent()).toContain("Proposal opened: 2 clauses edited, 1 added, 1 removed; order changed");
    await expectReadableDiff(page);
    await noProblems(page, "the proposal page");
    await screenshot(page, "proposal-with-diff");

    // The draft is gone once the proposal is open.
    await page.goto(`${a.origin}/policies/${policyId}/proposals/new`);
    expect(await changeCount(page)).toBe("0");
    await page.context().close();
  });

  it("reaches a follower on B with every change named", async () => {
    await a.flushOutbox();
    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page, b.origin, "bob");
    const entry = page.locator(".feed-proposal").filter({ hasText: "Clearer escalation and sources" });
    await waitFor(
      async () => {
        await page.goto(`${b.origin}/feed`);
        return (await entry.count()) > 0;
      },
      { what: "the proposal to reach B's feed" },
    );
    const shown = (await entry.textContent())!;
    for (const line of ["Edited “Escalate emergencies” (escalate): text", "Edited “Tone” (tone): context", "Added “Cite sources” (cite-sources)", "Removed “Old rule” (old-rule)", "New order of 4 clauses"]) {
      expect(shown).toContain(line);
    }
    expect(await entry.getByRole("link", { name: "Clearer escalation and sources" }).getAttribute("href")).toMatch(/\/actors\/nurses\/policies\/ward\/proposals\/\d+$/);
    await screenshot(page, "proposal-builder-feed-on-b", { fullPage: false });
    await context.close();
  });

  it("fits a phone: builder, editor and preview", async () => {
    const page = await memberPage({ phone: true });
    await page.goto(`${a.origin}/policies/${policyId}/proposals/new?clause=escalate#editor`);
    await noProblems(page, "the editor on a phone");
    await screenshot(page, "proposal-builder-editor-phone");
    await page.getByLabel("Text (Markdown)").fill(ESCALATE.replace("at once", "now"));
    await saveChange(page);
    await page.getByRole("link", { name: "Preview and open the proposal" }).click();
    await noProblems(page, "the preview on a phone");
    await screenshot(page, "proposal-builder-preview-phone");
    await page.goto(proposalUrl);
    await noProblems(page, "the proposal on a phone");
    await screenshot(page, "proposal-with-diff-phone");
    await page.context().close();
    expect(pageErrors.flat()).toEqual([]);
  });
});

describe("changes elsewhere", () => {
  it("the API opens a proposal of several changes in one change set", async () => {
    const base = policyContentSchema.parse(CONTENT);
    const wanted = policyContentSchema.parse({
      ...CONTENT,
      clauses: [
        { ...CONTENT.clauses[0], authority: "system" },
        CONTENT.clauses[1],
        { id: "handover", authority: "guideline", text: "Hand over to the nurse in charge." },
        CONTENT.clauses[2],
      ],
    });
    const opened = await a.api<{ changes: string }>("POST", `policies/${policyId}/proposals`, {
      token: tokens.member,
      body: { title: "Three at once", changes: changeSetFromContents(base, wanted) },
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    expect(opened.body.changes).toBe("1 clause edited, 1 added, 1 removed");
  });

  it("the diff page between versions marks one word, folds the rest and says what a context change means", async () => {
    const v2 = {
      ...CONTENT,
      clauses: CONTENT.clauses.map((clause) =>
        clause.id === "escalate" ? { ...clause, text: ESCALATE.replace("urgent symptoms", "serious symptoms") } : clause.id === "tone" ? { ...clause, context: { domain: ["health"], locale: ["en"] } } : clause,
      ),
    };
    expect((await a.api("PUT", `policies/${policyId}/draft`, { token: tokens.steward, body: v2 })).status).toBe(200);
    expect((await a.api("POST", `policies/${policyId}/publish`, { token: tokens.steward, body: {} })).status).toBe(201);
    for (const phone of [false, true]) {
      const context = await newContext(browser, { phone });
      const page = await context.newPage();
      pageErrors.push(watchPageErrors(page));
      await page.goto(`${a.origin}/policies/${policyId}/diff?from=1&to=2`);
      const escalate = page.locator('[id="diff-escalate"]');
      expect(await escalate.locator("ins").allTextContents()).toEqual(["serious"]);
      expect(await escalate.locator("details.diff-unchanged").count()).toBe(2);
      expect(await page.locator('[id="diff-tone"] .facet-changes').textContent()).toContain("Now applies to: health, English (before: any context)");
      expect(await page.locator(".diff-summary").textContent()).toContain("2 edited");
      await noProblems(page, `the diff page${phone ? " on a phone" : ""}`);
      await screenshot(page, phone ? "policy-diff-formatted-phone" : "policy-diff-formatted");
      await context.close();
    }
    expect(pageErrors.flat()).toEqual([]);
  });
});

/** One marked word, folded unchanged paragraphs, the context change in words, the new clause rendered. */
async function expectReadableDiff(page: Page) {
  const escalate = page.locator('[id="diff-escalate"]');
  expect(await escalate.locator("ins").allTextContents()).toEqual(["serious"]);
  expect(await escalate.locator("del").allTextContents()).toEqual(["urgent"]);
  const folded = escalate.locator("details.diff-unchanged");
  expect(await folded.count()).toBe(2);
  expect(await folded.first().getAttribute("open")).toBeNull();
  expect(await folded.first().locator("summary").textContent()).toBe("1 unchanged paragraph");
  expect(await escalate.textContent()).not.toContain("**");

  const tone = page.locator('[id="diff-tone"]');
  expect(await tone.locator(".facet-changes").textContent()).toContain("Now applies to: health, English (before: any context)");
  expect(await tone.textContent()).not.toContain("{");

  const added = page.locator('[id="diff-cite-sources"]');
  expect(await added.locator("ins em").textContent()).toBe("guideline");
  expect(await added.textContent()).toContain("1 example");
  expect(await page.locator('[id="diff-old-rule"] del').textContent()).toContain("Mention the ward's opening hours.");
  expect(await page.locator('[id="diff-privacy"]').textContent()).toContain("Moved from position 3 to 1");
}
