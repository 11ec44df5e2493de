/**
 * A new admin's way in, across two real instances: `npm run demo` says how
 * to sign in; A's admin follows the first-steps checklist (each step ticks
 * from what exists, the last one after following a community on B); words
 * link to the glossary; quorum goes in and comes out as a percentage; a
 * failed clause save deep in a long draft shows its error in view, and the
 * success notice sits in the clause's block; people and communities have
 * avatars.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { accessibilityProblems, launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import { ROOT, TEST_PASSWORD, waitFor } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";
import { signInDetails } from "../scripts/demo-sign-in.ts";
import { GLOSSARY } from "../src/web/glossary.tsx";

const CLAUSES = 30;
const LONG_POLICY = {
  title: "Ward Assistant Policy",
  summary: "How assistants behave on the ward.",
  licence: "CC-BY-4.0",
  clauses: Array.from({ length: CLAUSES }, (_, i) => ({
    id: `rule_${i + 1}`,
    title: `Rule ${i + 1}`,
    authority: i % 5 === 0 ? "root" : "guideline",
    text: `Rule number ${i + 1}: ${"Say what you know and how you know it. ".repeat(8)}`,
  })),
};

/** Whether the element's box is inside the page's viewport (what the reader sees without scrolling). */
async function inViewport(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).first().evaluate((el) => {
    const box = el.getBoundingClientRect();
    return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
  });
}

describe("onboarding, words and feedback in place", () => {
  let a: LocalInstance;
  let b: LocalInstance;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let policyId: number;

  beforeAll(async () => {
    [a, b, browser] = await Promise.all([startLocalInstance(), startLocalInstance(), launchBrowser()]);
    const [, bea] = await Promise.all([a.createUser("alice", { admin: true }), b.createUser("bea", { admin: true })]);
    expect((await b.api("POST", "communities", { token: bea.token, body: { handle: "ubuntu", name: "Ubuntu ethics circle" } })).status).toBe(201);
    context = await newContext(browser);
    page = await context.newPage();
    errors = watchPageErrors(page);
    await signIn(page, a.origin, "alice");
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([a?.destroy(), b?.destroy()]);
  });

  it("npm run demo prints where and how to sign in as soon as its instances are up", () => {
    const text = signInDetails([{ label: "A", origin: "http://127.0.0.1:4000", username: "alice", role: "steward" }], TEST_PASSWORD);
    expect(text).toContain("http://127.0.0.1:4000/login");
    expect(text).toContain("user alice");
    expect(text).toContain(`Password for every account: ${TEST_PASSWORD}`);

    // The demo prints them right after creating the accounts, before its long imports (running it here
    // would start three more servers on a shared machine; the function is what it prints).
    const demo = readFileSync(join(ROOT, "scripts/demo.ts"), "utf8");
    expect(demo.indexOf("signInDetails(accounts, TEST_PASSWORD)")).toBeGreaterThan(0);
    expect(demo.indexOf("signInDetails(accounts, TEST_PASSWORD)")).toBeLessThan(demo.indexOf("policy\", \"import\""));
  });

  it("ticks the first steps from what exists, the last after following a community on B, then hides them", async () => {
    const step = (key: string) => page.locator(`#first-steps ~ ol li[data-step=${key}]`);
    await page.goto(a.origin);
    expect(await page.locator("#first-steps + p").textContent()).toContain("0 of 5 done");
    expect(await page.locator(".first-steps li.step-done").count()).toBe(0);
    await screenshot(page, "onboarding-home-first-steps");

    await step("community").locator("a:not(.term)").click();
    await page.getByLabel("Handle").fill("ward");
    await page.getByLabel("Name").fill("Ward Nurses");
    await page.getByRole("button", { name: "Create community" }).click();
    await page.waitForURL(`${a.origin}/actors/ward`);

    await page.goto(a.origin);
    expect(await step("community").getAttribute("class")).toBe("step-done");
    await step("policy").locator("a:not(.term)").click();
    expect(page.url()).toBe(`${a.origin}/actors/ward/policies/new`);
    await page.getByLabel("…or paste its text").fill(JSON.stringify(LONG_POLICY));
    await page.getByRole("button", { name: "Import policy" }).click();
    await page.getByRole("link", { name: "Open the draft" }).click();
    policyId = Number(/\/policies\/(\d+)\/draft/.exec(page.url())![1]);

    await page.goto(`${a.origin}/admin`);
    expect(await step("policy").getAttribute("class")).toBe("step-done");
    expect(await step("publish").getAttribute("class")).toBe("step-todo");
    await step("publish").locator("a:not(.term)").click();
    expect(page.url()).toBe(`${a.origin}/policies/${policyId}/draft`);
    await page.getByRole("button", { name: "Publish new version" }).click();
    await page.waitForURL(`${a.origin}/policies/${policyId}`);

    // An invite code is the "invite members" step, made on the admin page the step links to.
    await page.goto(a.origin);
    await step("invite").locator("a:not(.term)").click();
    expect(page.url()).toBe(`${a.origin}/admin#invites`);
    await page.getByRole("button", { name: "Create invite" }).click();
    expect(page.url()).toBe(`${a.origin}/admin#invites`);
    expect(await page.locator("#invites .notice-success").textContent()).toContain("Created the invite");
    expect(await inViewport(page, "#invites .notice-success")).toBe(true);
    expect(await step("invite").getAttribute("class")).toBe("step-done");
    expect(await page.locator("#first-steps + p").textContent()).toContain("4 of 5 done");
    await screenshot(page, "onboarding-admin-first-steps");

    await step("follow").locator("a:not(.term)").click();
    await page.getByLabel("Who or what to follow").fill(`@ubuntu@${b.host}`);
    await page.getByRole("button", { name: "Follow", exact: true }).click();
    await waitFor(
      async () => {
        await page.goto(a.origin);
        return (await page.locator(".first-steps").count()) === 0;
      },
      { what: "B to accept the follow and the checklist to go", intervalMs: 300 },
    );
    // Done: the admin page no longer shows it either.
    await page.goto(`${a.origin}/admin`);
    expect(await page.locator(".first-steps").count()).toBe(0);
  });

  it("links each hinted word to its glossary entry, and the footer to the glossary", async () => {
    const pages = [`/actors/ward/decision-rules`, `/policies/${policyId}`, `/policies/${policyId}/draft`, `/actors/ward`];
    const hinted = new Map<string, string>();
    for (const path of pages) {
      await page.goto(`${a.origin}${path}`);
      for (const link of await page.locator("main a.term").all()) hinted.set((await link.getAttribute("href"))!, (await link.getAttribute("title"))!);
    }
    for (const term of ["quorum", "threshold", "authority-level", "content-hash", "iri", "lineage", "steward", "context-of-use"]) {
      expect([...hinted.keys()], term).toContain(`/glossary#${term}`);
    }
    await page.goto(`${a.origin}/glossary`);
    for (const [href, title] of hinted) {
      const name = href.split("#")[1]!;
      expect(await page.locator(`dt[id="${name}"]`).textContent()).toBe(GLOSSARY[name as keyof typeof GLOSSARY].term);
      expect(title).toBe(GLOSSARY[name as keyof typeof GLOSSARY].short);
    }
    await page.goto(`${a.origin}/`);
    await page.locator("footer").getByRole("link", { name: "Glossary" }).click();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Glossary");
    for (const word of ["Authority level", "Steward", "Fork", "Offer", "Lineage", "IRI", "Content hash", "Quorum"]) {
      expect(await page.locator("dl.glossary dt").allTextContents()).toContain(word);
    }
  });

  it("takes and shows quorum as a percentage, and spells authority levels as the Model Spec does", async () => {
    await page.goto(`${a.origin}/actors/ward/decision-rules`);
    const rootRow = page.getByRole("row", { name: /^Root/ });
    expect(await rootRow.textContent()).toContain("50%");
    expect(await page.locator("main").textContent()).not.toMatch(/\broot\b/);
    expect(await page.getByLabel("Quorum for Root (% of members)").inputValue()).toBe("50");

    // The browser refuses 150 itself (max 100); without that check the server says the same in words.
    await page.locator("form[aria-label='Decision rules']").evaluate((form) => ((form as HTMLFormElement).noValidate = true));
    await page.getByLabel("Quorum for Root (% of members)").fill("150");
    await page.getByRole("button", { name: "Save the decision rules" }).click();
    expect(await page.locator("#root-quorum-error").textContent()).toContain("percentage from 0 to 100");
    expect(page.url()).toContain("#change-rules");
    expect(await inViewport(page, "main .notice-error")).toBe(true);

    await page.getByLabel("Quorum for Root (% of members)").fill("40");
    await page.getByRole("button", { name: "Save the decision rules" }).click();
    expect(await page.locator("main .notice-success").textContent()).toBe("Decision rules saved.");
    expect(await inViewport(page, "main .notice-success")).toBe(true);
    expect(await page.getByRole("row", { name: /^Root/ }).textContent()).toContain("40%");
    expect(await page.getByLabel("Quorum for Root (% of members)").inputValue()).toBe("40");
    const rules = await a.api<{ effective: Record<string, { quorum: number }> }>("GET", "communities/ward/decision-rules");
    expect(rules.body.effective.root!.quorum).toBe(0.4);
  });

  it("shows a failed clause save's error in view, deep in a long draft, and the success notice in the clause's block", async () => {
    const target = `rule_${CLAUSES - 3}`;
    const block = `#edit-${target}`;
    await page.goto(`${a.origin}/policies/${policyId}/draft`);
    expect(await page.evaluate(() => document.body.scrollHeight)).toBeGreaterThan(3000);
    await page.locator(`${block} summary`).click();
    await page.locator(`${block} textarea[name=text]`).fill("   ");
    await page.locator(block).getByRole("button", { name: "Save clause" }).click();
    await page.waitForLoadState();
    expect(page.url()).toBe(`${a.origin}/policies/${policyId}/draft/clauses#edit-${target}`);
    const summary = `${block} .form-error`;
    expect(await page.locator(summary).textContent()).toContain("Text");
    expect(await inViewport(page, summary)).toBe(true);
    await screenshot(page, "onboarding-clause-error-in-view", { fullPage: false });
    // The summary's link goes to the field, whose own message sits beside it.
    await page.locator(summary).getByRole("link", { name: "Text" }).click();
    expect(await page.locator(`${block} textarea[name=text]`).getAttribute("aria-invalid")).toBe("true");
    expect(await inViewport(page, `${block} textarea[name=text]`)).toBe(true);

    await page.locator(`${block} textarea[name=text]`).fill("Say what you know, and say how you know it.");
    await page.locator(block).getByRole("button", { name: "Save clause" }).click();
    await page.waitForURL(`${a.origin}/policies/${policyId}/draft#edit-${target}`);
    expect(await page.locator(`${block} .notice-success`).textContent()).toBe(`Saved clause ${target}.`);
    expect(await inViewport(page, `${block} .notice-success`)).toBe(true);
    // Nothing at the top of the page any more.
    expect(await page.locator("main > .notice").count()).toBe(0);
    await screenshot(page, "onboarding-clause-saved-in-view", { fullPage: false });

    // Removing a clause leaves the reader beside the one that takes its place.
    await page.locator(`${block} summary`).click();
    await page.locator(block).getByRole("button", { name: `Remove clause ${target}` }).click();
    const next = `#edit-rule_${CLAUSES - 2}`;
    await page.waitForURL(`${a.origin}/policies/${policyId}/draft${next}`);
    expect(await page.locator(`${next} .notice-success`).textContent()).toBe(`Removed clause ${target}.`);
    expect(await inViewport(page, `${next} .notice-success`)).toBe(true);
  });

  it("gives people and communities the same generated avatar wherever they appear", async () => {
    await page.goto(a.origin);
    const onHome = await page.locator("#mine + ul svg.avatar").first().innerHTML();
    await page.goto(`${a.origin}/actors/ward`);
    expect(await page.locator("h1 svg.avatar").innerHTML()).toBe(onHome);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Ward Nurses");
    expect(await page.locator("#members ~ .table-wrap svg.avatar-round").count()).toBe(1);
    // B's community, followed from A, has its own (no image fetched from B).
    await page.goto(`${a.origin}/follow`);
    const remote = page.locator("main .actor-name", { hasText: "ubuntu" }).first();
    expect(await remote.locator("svg.avatar").count()).toBe(1);
    expect(await remote.locator("svg.avatar").innerHTML()).not.toBe(onHome);
    expect(await page.locator("main img").count()).toBe(0);
  });

  it("passes the accessibility audit on the glossary and the changed pages, at desktop and phone width", async () => {
    const phone = await newContext(browser, { phone: true });
    const small = await phone.newPage();
    const smallErrors = watchPageErrors(small);
    await signIn(small, a.origin, "alice");
    const paths = ["/glossary", "/glossary#quorum", "/admin", "/", `/actors/ward/decision-rules`, `/policies/${policyId}/draft`, "/actors/ward"];
    for (const [view, name] of [
      [page, "desktop"],
      [small, "phone"],
    ] as const) {
      for (const path of paths) {
        await view.goto(`${a.origin}${path}`);
        expect(await accessibilityProblems(view), `${path} (${name})`).toEqual([]);
        const width = await view.evaluate(() => document.documentElement.scrollWidth);
        expect(width, `${path} (${name}) fits`).toBeLessThanOrEqual(name === "phone" ? 390 : 1280);
      }
      await view.goto(`${a.origin}/glossary`);
      await screenshot(view, `onboarding-glossary-${name}`);
      await view.goto(`${a.origin}/actors/ward/decision-rules`);
      await screenshot(view, `onboarding-decision-rules-${name}`);
    }
    // The checklist on a phone, on a fresh instance's home (B has steps left).
    const phoneB = await newContext(browser, { phone: true });
    const pageB = await phoneB.newPage();
    await signIn(pageB, b.origin, "bea");
    expect(await pageB.locator(".first-steps li.step-done").count()).toBe(1);
    expect(await accessibilityProblems(pageB)).toEqual([]);
    await screenshot(pageB, "onboarding-home-first-steps-phone");
    expect([...errors, ...smallErrors]).toEqual([]);
  });
});
