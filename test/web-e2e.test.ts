/**
 * The whole journey of the web interface, in one real browser against two
 * real instances on loopback (real HTTP, signatures verified), as the issue
 * describes it: people sign up, one creates a community, imports a policy and
 * publishes it; someone on the second instance follows the community; a
 * second version is published and its diff is seen on the second instance;
 * a clause annotated there shows up on the first. Every step is a click or a
 * keystroke in the browser, from the first admin's setup on A onwards; B's
 * admin uses the CLI. The instances run in the test process
 * (test/local-instance.ts): what is tested is the browser's journey, not the
 * server's process.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { accessibilityProblems, launchBrowser, newContext, screenshot, watchPageErrors } from "./browser.ts";
import { waitFor } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

const PASSWORD = "a long and private passphrase";
const ADDED = "Check the patient's own words before you summarise them.";

let a: LocalInstance;
let b: LocalInstance;
let browser: Browser;
let work: string;
let specPath: string;

async function signUp(page: Page, origin: string, username: string, displayName: string) {
  await page.goto(origin);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign up" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Display name").fill(displayName);
  await page.locator("#password").fill(PASSWORD);
  await page.locator("#passwordRepeat").fill(PASSWORD);
  await page.getByRole("button", { name: "Create my account" }).click();
  await page.waitForURL(`${origin}/`);
  expect(await page.getByRole("status").textContent()).toContain(`Welcome, ${displayName}`);
}

/** Reloads `url` until the main content contains `text`: federation is asynchronous. */
async function reloadUntil(page: Page, url: string, text: string, what: string) {
  await waitFor(
    async () => {
      await page.goto(url);
      return (await page.locator("main").textContent())?.includes(text);
    },
    { what },
  );
}

beforeAll(async () => {
  [a, b, browser] = await Promise.all([startLocalInstance(), startLocalInstance(), launchBrowser()]);
  // B is set up from the command line; A in the browser, below.
  await b.createUser("bea", { admin: true });
  const opened = await b.cli(["admin", "registrations", "open", "--data", b.dataDir]);
  expect(opened.code, opened.stderr).toBe(0);
  // The first part of the OpenAI Model Spec, as a steward would upload it.
  const spec = readFileSync(new URL("./fixtures/model_spec/model_spec.md", import.meta.url), "utf8");
  work = mkdtempSync(join(tmpdir(), "fedalign-e2e-"));
  specPath = join(work, "model_spec.md");
  writeFileSync(specPath, spec.slice(0, spec.indexOf("\n# Seek the truth together")));
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([a?.destroy(), b?.destroy()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("a community's policy, from sign-up to an annotation across instances", () => {
  it("works end to end in the browser", async () => {
    const alice = await (await newContext(browser)).newPage();
    const bob = await (await newContext(browser)).newPage();
    const aliceErrors = watchPageErrors(alice);
    const bobErrors = watchPageErrors(bob);

    // 0. A's first admin sets the instance up with the one-time code a first run prints, and opens sign-up.
    const setupCode = await a.setupCode();
    expect(setupCode).toMatch(/^[0-9a-f]{4}(?:-[0-9a-f]{4}){4}$/);
    await alice.goto(a.origin);
    await alice.getByRole("link", { name: "Set up this instance" }).click();
    await alice.getByLabel("Setup code").fill(setupCode!);
    await alice.getByLabel("Username").fill("ada");
    await alice.getByLabel("Display name").fill("Ada, the admin");
    await alice.locator("#password").fill(PASSWORD);
    await alice.locator("#passwordRepeat").fill(PASSWORD);
    await alice.getByRole("button", { name: "Create the admin account" }).click();
    await alice.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
    await alice.getByLabel("Who may sign up").selectOption("open");
    await alice.getByRole("button", { name: "Save registration mode" }).click();
    expect(await alice.getByRole("status").textContent()).toContain("open");
    await alice.getByRole("button", { name: "Sign out" }).click();

    // 1. Alice signs up on A and creates a community.
    await signUp(alice, a.origin, "alice", "Alice Okafor");
    await alice.getByRole("link", { name: "Create a community" }).click();
    await alice.getByLabel("Handle").fill("nurses");
    await alice.getByLabel("Name").fill("Nurses of the North");
    await alice.getByLabel("Summary").fill("Ward nurses writing the rules for the assistants they use.");
    await alice.getByRole("button", { name: "Create community" }).click();
    expect(await alice.getByRole("heading", { level: 1 }).textContent()).toBe("Nurses of the North");
    await screenshot(alice, "e2e-community");

    // 2. She imports the Model Spec and publishes it as version 1.
    await alice.getByRole("link", { name: "New policy" }).click();
    await alice.getByLabel("File").setInputFiles(specPath);
    await alice.getByRole("button", { name: "Import policy" }).click();
    expect(await alice.getByRole("heading", { level: 1 }).textContent()).toMatch(/^Imported “.+”$/);
    await alice.getByRole("link", { name: "Open the draft" }).click();
    const policyId = Number(/\/policies\/(\d+)\/draft$/.exec(alice.url())![1]);
    await alice.getByLabel("Changelog").fill("First version, from the Model Spec.");
    await alice.getByRole("button", { name: "Publish new version" }).click();
    expect(await alice.getByRole("status").textContent()).toContain("Published version 1");
    const policyTitle = (await alice.getByRole("heading", { level: 1 }).textContent())!;
    await screenshot(alice, "e2e-policy-v1");

    // 3. Bob signs up on B and follows the community by its handle.
    await signUp(bob, b.origin, "bob", "Bob Lindqvist");
    await bob.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Follow" }).click();
    await bob.getByLabel("Who or what to follow").fill(`@nurses@${a.host}`);
    await bob.getByRole("button", { name: "Follow", exact: true }).click();
    await reloadUntil(bob, `${b.origin}/follow`, "accepted", "A to accept Bob's follow");
    expect(await bob.getByRole("row", { name: /Nurses of the North/ }).textContent()).toContain("accepted");

    // 4. Alice edits one clause in the draft and publishes version 2.
    await alice.goto(`${a.origin}/policies/${policyId}/draft`);
    const clauseBox = alice.locator(".draft-clause").first();
    const clauseDomId = (await clauseBox.getAttribute("id"))!; // "edit-<clause id>"
    const clauseId = clauseDomId.slice("edit-".length);
    await clauseBox.locator("summary").click();
    const text = clauseBox.getByLabel("Text (Markdown)");
    await text.fill(`${await text.inputValue()} ${ADDED}`);
    await clauseBox.getByRole("button", { name: "Save clause" }).click();
    expect(await alice.getByRole("status").textContent()).toBe(`Saved clause ${clauseId}.`);
    await alice.getByLabel("Changelog").fill("Ask for the patient's own words.");
    await alice.getByRole("button", { name: "Publish new version" }).click();
    expect(await alice.getByRole("status").textContent()).toContain("Published version 2");

    // 5. On B, the feed shows version 2; its diff marks the added sentence.
    await reloadUntil(bob, `${b.origin}/feed`, "version 2", "version 2 to reach B");
    await bob.getByRole("list", { name: "Updates" }).getByRole("link", { name: "Changes since version 1" }).first().click();
    const diff = bob.locator(`[id="diff-${clauseId}"]`);
    expect((await diff.locator("ins").allTextContents()).join(" ")).toContain(ADDED);
    expect(await bob.locator(".diff-summary").textContent()).toContain("1 edited");
    await screenshot(bob, "e2e-diff-on-b");

    // 6. Bob annotates that clause on its page on B (reached from the clause's
    // title); it appears on the clause's page on A, and the policy page counts it.
    const bobPolicyUrl = bob.url().replace(/\/diff.*$/, "");
    await bob.goto(bobPolicyUrl);
    expect(await bob.getByRole("heading", { level: 1 }).textContent()).toBe(policyTitle);
    await bob.locator(`[id="clause-${clauseId}"] .clause-title a`).first().click();
    const form = bob.locator("#annotate");
    await form.getByLabel("Motivation").selectOption("question");
    await form.getByLabel("Your annotation").fill("Does this hold when the patient cannot speak?");
    await form.getByRole("button", { name: "Add annotation" }).click();
    expect(await bob.getByRole("status").textContent()).toContain("annotation was added");

    const onA = alice.locator("#annotations .annotation");
    await waitFor(
      async () => {
        await alice.goto(`${a.origin}/policies/${policyId}/clauses/${clauseId}`);
        return (await onA.count()) > 0;
      },
      { what: "Bob's annotation to reach A" },
    );
    const shown = (await onA.first().textContent())!;
    expect(shown).toContain("Does this hold when the patient cannot speak?");
    expect(shown).toContain(`(${b.host})`);
    await onA.first().scrollIntoViewIfNeeded();
    await screenshot(alice, "e2e-annotation-on-a", { fullPage: false });
    await alice.goto(`${a.origin}/policies/${policyId}`);
    expect(await alice.locator(`[id="clause-${clauseId}"] .clause-more`).textContent()).toContain("1 annotation");

    expect(aliceErrors).toEqual([]);
    expect(bobErrors).toEqual([]);
  });

  it("passes an accessibility audit on the main pages (labels, headings, names, contrast)", async () => {
    const page = await (await newContext(browser)).newPage();
    await page.goto(`${a.origin}/login`);
    await page.getByLabel("Username").fill("alice");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${a.origin}/`);
    const policyId = (await a.api<{ id: number }[]>("GET", "policies?community=nurses")).body[0]!.id;
    const paths = [
      "/",
      "/actors/nurses",
      "/actors/nurses/policies/new",
      `/policies/${policyId}`,
      `/policies/${policyId}/draft`,
      `/policies/${policyId}/diff?from=1&to=2`,
      `/policies/${policyId}/proposals`,
      `/policies/${policyId}/proposals/new`,
      `/policies/${policyId}/fork`,
      "/follow",
      "/feed",
      "/offers",
      "/bundle",
      "/actors/nurses/tasks",
      "/actors/nurses/statements",
      "/actors/nurses/opinions",
      "/actors/nurses/decision-rules",
      "/settings",
      "/settings/tokens",
      "/settings/preferences",
      "/communities/new",
    ];
    const problems: string[] = [];
    for (const path of paths) {
      const response = await page.goto(`${a.origin}${path}`);
      expect(response?.status(), path).toBe(200);
      for (const problem of await accessibilityProblems(page)) problems.push(`${path}: ${problem}`);
    }
    expect(problems).toEqual([]);
  });
});
