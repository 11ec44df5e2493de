/**
 * Participation in a real browser against one instance in the test process
 * (its clock advanced by the test, so a proposal closes without a wait): a steward
 * sets the decision rules, a member builds a proposal, members vote (one
 * through the API), an outsider is refused, the outcome shows once the
 * proposal closes; statement voting, submission and moderation; and the
 * opinion-group map of the imported London Polis conversation.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import { runCli } from "./harness.ts";
import { ManualClock, startLocalInstance, type LocalInstance } from "./local-instance.ts";

const LONDON = fileURLToPath(new URL("./fixtures/polis/london.youth.policing", import.meta.url));

const CONTENT = {
  title: "Youth Policing Assistant",
  licence: "CC-BY-4.0",
  sections: [{ id: "conduct", title: "Conduct", parent: null }],
  clauses: [
    { id: "rights", authority: "root", text: "Explain people's rights during a stop and search." },
    { id: "tone", authority: "guideline", section: "conduct", text: "Be respectful." },
  ],
};

describe("participation pages", () => {
  const clock = new ManualClock();
  let a: LocalInstance;
  let browser: Browser;
  let policyId: number;
  const tokens: Record<string, string> = {};
  const pageErrors: string[][] = [];

  async function as(username: string): Promise<Page> {
    const context = await newContext(browser);
    const page = await context.newPage();
    pageErrors.push(watchPageErrors(page));
    await signIn(page, a.origin, username);
    return page;
  }

  beforeAll(async () => {
    [a, browser] = await Promise.all([startLocalInstance({ clock }), launchBrowser()]);
    tokens.stella = (await a.createUser("stella", { admin: true })).token;
    for (const username of ["m1", "m2", "m3", "outsider"]) tokens[username] = (await a.createUser(username)).token;
    const created = await a.api("POST", "communities", { token: tokens.stella, body: { handle: "youth", name: "Youth panel" } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    for (const name of ["m1", "m2", "m3"]) {
      const added = await a.api("PUT", `communities/youth/members/${name}`, { token: tokens.stella, body: { role: "member" } });
      expect(added.status).toBe(200);
    }
    const policy = await a.api<{ id: number }>("POST", "policies", { token: tokens.stella, body: { community: "youth", slug: "policing", content: CONTENT } });
    expect(policy.status, JSON.stringify(policy.body)).toBe(201);
    policyId = policy.body.id;
    expect((await a.api("POST", `policies/${policyId}/publish`, { token: tokens.stella, body: {} })).status).toBe(201);
    const imported = await runCli(["--server", a.origin, "--token", tokens.stella!, "statements", "import-polis", "youth", LONDON]);
    expect(imported.code, imported.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await a?.destroy();
  });

  it("lets a steward set the decision rules, with errors beside the fields", async () => {
    const page = await as("stella");
    await page.goto(`${a.origin}/actors/youth/decision-rules`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("How Youth panel decides");
    // A percentage above 100 is refused next to the field, in percent (the API itself takes a share from 0 to 1).
    const quorum = page.getByLabel("Quorum for Guideline (% of members)");
    expect(await quorum.inputValue()).toBe("20");
    await quorum.fill("200");
    await quorum.evaluate((input) => input.removeAttribute("max"));
    await page.getByRole("button", { name: "Save the decision rules" }).click();
    expect(await page.locator("#guideline-quorum-error").textContent()).toContain("percentage from 0 to 100");
    expect(await quorum.getAttribute("aria-invalid")).toBe("true");

    await quorum.fill("50");
    await page.getByLabel("Threshold for Guideline").selectOption("majority");
    // A minimum open time of 0 would leave proposals without a closing time nothing to close at: refused here, in words for this page.
    await page.getByLabel("Minimum open time for Guideline (hours)").fill("0");
    await page.getByRole("button", { name: "Save the decision rules" }).click();
    const minError = await page.locator("#guideline-minOpenHours-error").textContent();
    expect(minError).toContain("must be more than 0 hours");
    expect(minError).not.toContain("--");
    await page.getByLabel("Minimum open time for Guideline (hours)").fill("1");
    await page.getByLabel("When a proposal is adopted").selectOption("publish");
    await page.getByRole("button", { name: "Save the decision rules" }).click();
    expect(await page.getByRole("status").textContent()).toBe("Decision rules saved.");
    const row = page.getByRole("row").filter({ hasText: "Guideline" });
    expect(await row.textContent()).toContain("50%");
    expect(await row.textContent()).toContain("1 h");
    expect(await page.getByText("are published as a new version at once").count()).toBe(1);
    await screenshot(page, "participation-rules");

    // Members read the rules but get no form.
    const member = await as("m3");
    await member.goto(`${a.origin}/actors/youth/decision-rules`);
    expect(await member.getByRole("button", { name: "Save the decision rules" }).count()).toBe(0);
    await page.context().close();
    await member.context().close();
  });

  it("takes a proposal from the builder through votes to its outcome", async () => {
    const m1 = await as("m1");
    await m1.goto(`${a.origin}/policies/${policyId}/proposals`);
    expect(await m1.getByText("No proposal is open.").count()).toBe(1);
    await m1.getByRole("link", { name: "Propose a change" }).click();

    // A clause id the change-set schema refuses: the message sits under the field.
    await m1.getByRole("link", { name: "Add a new clause" }).click();
    await m1.getByLabel("Clause id").fill("Bad Id!");
    await m1.getByLabel("Text (Markdown)").fill("Cite sources.");
    await m1.getByRole("button", { name: "Add this clause to the proposal" }).click();
    expect(await m1.locator("#c-id-error").textContent()).toBeTruthy();
    expect(await m1.getByLabel("Clause id").getAttribute("aria-invalid")).toBe("true");
    expect(await m1.getByLabel("Text (Markdown)").inputValue()).toBe("Cite sources.");
    await screenshot(m1, "participation-new-proposal");

    // Start from the clause's current text and change it.
    await m1.getByLabel("Start from the current text of").selectOption("tone");
    await m1.getByRole("button", { name: "Edit this clause" }).click();
    expect(await m1.getByLabel("Text (Markdown)").inputValue()).toBe("Be respectful.");
    await m1.getByLabel("Text (Markdown)").fill("Be respectful, plain and warm.");
    await m1.getByRole("button", { name: "Save this change" }).click();
    await m1.getByRole("link", { name: "Preview and open the proposal" }).click();
    await m1.getByLabel("Title", { exact: false }).first().fill("Warmer tone");
    // Closing in two hours (to the second), after the guideline rule's one-hour minimum.
    const close = new Date(clock.now().getTime() + 2 * 3_600_000);
    if (close.getUTCSeconds() === 0) close.setUTCSeconds(1);
    await m1.getByLabel("Voting closes at (UTC)").fill(close.toISOString().slice(0, 19));
    await m1.getByRole("button", { name: "Open the proposal for votes" }).click();
    await m1.waitForURL(/\/proposals\/\d+$/);
    const proposalUrl = m1.url();
    const proposalId = Number(proposalUrl.split("/").pop());
    expect(await m1.getByRole("status").textContent()).toContain("Proposal opened");
    expect(await m1.getByRole("heading", { level: 1 }).textContent()).toBe("Warmer tone");
    // The word-level diff of the edited clause.
    expect(await m1.locator(".proposal-diff ins").allTextContents()).toContain(", plain and warm");
    expect(await m1.getByText("the strictest level the changes touch").count()).toBe(1);

    await m1.getByRole("button", { name: "Yes", exact: true }).click();
    expect(await m1.getByRole("status").textContent()).toContain("Your vote (yes) is counted");
    expect(await m1.locator(".my-vote").textContent()).toBe("yes");
    expect(await m1.getByRole("button", { name: "Yes ✓" }).getAttribute("aria-pressed")).toBe("true");

    const m2 = await as("m2");
    await m2.goto(proposalUrl);
    await m2.getByRole("button", { name: "No", exact: true }).click();
    expect(await m2.locator(".my-vote").textContent()).toBe("no");
    // A vote can be changed while the proposal is open.
    await m2.getByRole("button", { name: "Yes", exact: true }).click();
    expect(await m2.locator(".my-vote").textContent()).toBe("yes");

    const outsider = await as("outsider");
    await outsider.goto(proposalUrl);
    await outsider.getByRole("button", { name: "Yes", exact: true }).click();
    expect(await outsider.getByRole("alert").textContent()).toBe('Your vote was not counted: Only members of "youth" vote on its proposals.');

    const m3 = await a.api("POST", `proposals/${proposalId}/vote`, { token: tokens.m3, body: { value: "no" } });
    expect(m3.status).toBe(200);

    // The discussion: a comment through the form, shown in the thread.
    await m2.getByLabel("Kind").selectOption("question");
    await m2.getByLabel("Your comment").fill("Does warm mean informal?");
    await m2.getByRole("button", { name: "Post comment" }).click();
    expect(await m2.locator("ol.discussion li").first().textContent()).toContain("Does warm mean informal?");

    await m1.reload();
    const tally = m1.locator("table.tally");
    expect(await tally.getByRole("row", { name: /^Yes 2/ }).count()).toBe(1);
    expect(await tally.getByRole("row", { name: /^No 1/ }).count()).toBe(1);
    expect(await tally.locator("caption").textContent()).toContain("3 of 4 members voted");
    await screenshot(m1, "participation-proposal");

    await m1.goto(`${a.origin}/policies/${policyId}/proposals`);
    expect(await m1.getByRole("row").filter({ hasText: "Warmer tone" }).textContent()).toContain("2 yes, 1 no");
    await screenshot(m1, "participation-proposals");

    // Past the close, the page alone changes nothing; the instance's scheduled job closes it: adopted and published as version 2.
    clock.set(new Date(close.getTime() + 1000));
    await m1.goto(proposalUrl);
    expect(await m1.locator(".outcome").count()).toBe(0);
    await a.instance.runScheduledJobs();
    await m1.goto(proposalUrl);
    expect(await m1.locator(".outcome").textContent()).toMatch(/^Adopted: 2 yes to 1 no/);
    expect(await m1.getByRole("link", { name: "version 2" }).getAttribute("href")).toBe(`/policies/${policyId}?version=2`);
    expect(await m1.getByRole("button", { name: "Yes", exact: true }).count()).toBe(0);
    await m1.goto(`${a.origin}/policies/${policyId}/proposals`);
    expect(await m1.getByText("No proposal is open.").count()).toBe(1);
    expect(await m1.getByRole("row").filter({ hasText: "Warmer tone" }).textContent()).toContain("Adopted");

    for (const page of [m1, m2, outsider]) await page.context().close();
  }, 120_000);

  it("records statement votes, takes submissions and lets stewards moderate them", async () => {
    const m1 = await as("m1");
    await m1.goto(`${a.origin}/actors/youth/statements`);
    const first = m1.locator("li.statement").first();
    const body = await first.locator(".statement-body").textContent();
    await first.getByRole("button", { name: "Agree", exact: true }).click();
    expect(await m1.getByRole("status").textContent()).toBe("Recorded: agree.");
    const voted = m1.locator("li.statement").filter({ hasText: body! });
    expect(await voted.locator(".my-vote").textContent()).toBe("agree");
    expect(await voted.getByRole("button", { name: "Agree ✓" }).getAttribute("aria-pressed")).toBe("true");

    await m1.getByRole("textbox", { name: /^Statement/ }).fill("Officers should explain why they stop someone.");
    await m1.getByRole("button", { name: "Submit the statement" }).click();
    expect(await m1.getByRole("status").textContent()).toContain("Statement submitted");
    expect(await m1.getByText("Officers should explain why they stop someone.").count()).toBe(0);

    const stella = await as("stella");
    await stella.goto(`${a.origin}/actors/youth/statements`);
    const pending = stella.locator("#moderation + * li, section[aria-labelledby=moderation] li").filter({ hasText: "Officers should explain" });
    await pending.getByRole("button", { name: "Approve" }).click();
    expect(await stella.getByRole("status").textContent()).toContain("Statement approved");
    await m1.reload();
    expect(await m1.locator("li.statement").filter({ hasText: "Officers should explain why they stop someone." }).count()).toBe(1);
    await screenshot(m1, "participation-statements");

    // Outsiders see the statements but cannot vote.
    const outsider = await as("outsider");
    await outsider.goto(`${a.origin}/actors/youth/statements`);
    expect(await outsider.getByText("Only members of Youth panel vote and submit statements.").count()).toBe(1);
    expect(await outsider.getByRole("button", { name: "Agree", exact: true }).count()).toBe(0);
    for (const page of [m1, stella, outsider]) await page.context().close();
  });

  it("maps the London conversation's opinion groups, with consensus and bridging statements", async () => {
    const api = await a.api<{ participants: number; groups: { size: number }[]; projection: unknown[] }>("GET", "opinions?community=youth&across=true"); // the page shows all conversations unless one is named
    expect(api.body.participants).toBeGreaterThan(10);
    const context = await newContext(browser);
    const page = await context.newPage();
    pageErrors.push(watchPageErrors(page));
    await page.goto(`${a.origin}/actors/youth/opinions`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Opinion groups in Youth panel");
    const map = page.getByRole("img", { name: "Opinion groups in Youth panel" });
    expect(await map.count()).toBe(1);
    expect(await map.locator("circle.opinion-point").count()).toBe(api.body.projection.length);
    expect(api.body.projection.length).toBe(api.body.participants);
    // Every group in the legend, with its size.
    const legend = await page.locator(".opinion-legend li").allTextContents();
    expect(legend).toEqual(api.body.groups.map((g, i) => `${String.fromCharCode(65 + i)}`).map((letter, i) => `Group ${letter}: ${api.body.groups[i]!.size} participants`));
    // Points are coloured by group.
    const classes = await map.locator("circle.opinion-point").evaluateAll((circles) => [...new Set(circles.map((c) => c.getAttribute("class")))]);
    expect(classes.length).toBe(api.body.groups.length);
    expect(await page.locator(".consensus-list li").count()).toBe(5);
    expect(await page.locator(".bridging-list li").count()).toBe(5);
    expect(await page.locator("table.support tbody tr").count()).toBeGreaterThan(10);
    await screenshot(page, "participation-opinions");
    await context.close();
    // The map and the support table fit a phone (the table scrolls inside its frame).
    const phone = await newContext(browser, { phone: true });
    const small = await phone.newPage();
    pageErrors.push(watchPageErrors(small));
    await small.goto(`${a.origin}/actors/youth/opinions`);
    expect(await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await phone.close();
    expect(pageErrors.flat()).toEqual([]);
  });
});
