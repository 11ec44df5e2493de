/**
 * A community's proposals reach the Fedalign instances that follow it: a
 * member of B who follows a community on A sees the proposal open in their
 * feed with its running count, then closed with the final tally. Two real
 * instances over loopback, signatures verified; the feed is read in the
 * browser, as the member would. Both instances run in the test process
 * with one clock the test advances: the proposal closes when A's scheduled
 * job runs after its closing time.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { launchBrowser, newContext, screenshot, signIn } from "./browser.ts";
import { runCli, waitFor, type FollowView } from "./harness.ts";
import { ManualClock, startLocalInstance, type LocalInstance } from "./local-instance.ts";

const CONTENT = {
  title: "Ward Assistant Policy",
  licence: "CC-BY-4.0",
  clauses: [
    { id: "escalate", authority: "root", text: "Tell the user to call emergency services when they describe chest pain." },
    { id: "tone", authority: "guideline", text: "Be calm." },
  ],
};

const clock = new ManualClock();
let a: LocalInstance;
let b: LocalInstance;
let browser: Browser;
let work: string;
let steward: { token: string };
let member: { token: string };
let bob: { token: string };
let policyId: number;

beforeAll(async () => {
  [a, b, browser] = await Promise.all([startLocalInstance({ clock }), startLocalInstance({ clock }), launchBrowser()]);
  work = mkdtempSync(join(tmpdir(), "fedalign-proposal-federation-"));
  [steward, member, bob] = await Promise.all([a.createUser("stella"), a.createUser("mo"), b.createUser("bob")]);
  expect((await a.api("POST", "communities", { token: steward.token, body: { handle: "nurses", name: "Night Nurses" } })).status).toBe(201);
  await a.api("PUT", "communities/nurses/members/mo", { token: steward.token, body: { role: "member" } });
  const rules = await a.api("PUT", "communities/nurses/decision-rules", {
    token: steward.token,
    body: { rules: { guideline: { quorum: 0.5, threshold: "majority", blocks: false, minOpenHours: 1 } }, adoptMode: "draft" },
  });
  expect(rules.status, JSON.stringify(rules.body)).toBe(200);
  await b.api("POST", "follows", { token: bob.token, body: { target: `@nurses@${a.host}` } });
  await waitFor(async () => (await b.api<FollowView[]>("GET", "follows", { token: bob.token })).body[0]?.state === "accepted", { what: "B's follow to be accepted" });
  policyId = (await a.api<{ id: number }>("POST", "policies", { token: steward.token, body: { community: "nurses", slug: "ward", content: CONTENT } })).body.id;
  await a.api("POST", `policies/${policyId}/publish`, { token: steward.token, body: {} });
  // B holds the policy once its first version reaches it.
  await waitFor(async () => (await b.api("GET", `policies/lookup?ref=${encodeURIComponent(`${a.origin}/actors/nurses/policies/ward`)}`)).status === 200, {
    what: "B to hold the policy",
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([a?.destroy(), b?.destroy()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("a followed community's proposal", () => {
  it("shows in a follower's feed on another instance, open and then closed with its tally", async () => {
    const file = join(work, "wanted.json");
    writeFileSync(file, JSON.stringify({ ...CONTENT, clauses: CONTENT.clauses.map((c) => (c.id === "tone" ? { ...c, text: "Be calm and kind." } : c)) }));
    const closesAt = new Date(clock.now().getTime() + 2 * 3_600_000).toISOString();
    const proposed = await runCli(["--server", a.origin, "--token", member.token, "propose", String(policyId), "--changes", file, "--title", "Kinder tone", "--close-at", closesAt, "--json"]);
    expect(proposed.code, proposed.stderr).toBe(0);
    const proposal = JSON.parse(proposed.stdout) as { id: number; iri: string };
    expect((await a.api("POST", `proposals/${proposal.id}/vote`, { token: member.token, body: { value: "yes" } })).status).toBe(200);

    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page, b.origin, "bob");
    const entry = page.locator(".feed-proposal").filter({ hasText: "Kinder tone" });
    await waitFor(
      async () => {
        await page.goto(`${b.origin}/feed`);
        return (await entry.count()) > 0;
      },
      { what: "the proposal to reach B's feed" },
    );
    expect(await entry.textContent()).toContain("opened the proposal");
    expect(await entry.textContent()).toContain("Voting closes");
    expect(await entry.getByRole("link", { name: "Kinder tone" }).getAttribute("href")).toBe(proposal.iri);

    // A's scheduled job closes it once the clock has passed its closing time; the Update carries the tally.
    clock.set(new Date(Date.parse(closesAt) + 1000));
    await a.instance.runScheduledJobs();
    const listed = await a.api<{ id: number; state: string }[]>("GET", `policies/${policyId}/proposals`);
    expect(listed.body.find((p) => p.id === proposal.id)?.state).toBe("adopted");
    await a.flushOutbox();
    await waitFor(
      async () => {
        await page.goto(`${b.origin}/feed`);
        return (await entry.textContent())?.includes("closed the proposal");
      },
      { what: "B's feed to show the closed proposal" },
    );
    const closed = (await entry.textContent())!;
    expect(closed).toContain("1 yes, 0 no, 0 abstain, 0 block");
    expect(closed).toContain("(1 voter)");
    expect(closed).toContain("Adopted");
    await screenshot(page, "feed-remote-proposal", { fullPage: false });

    // The proposal's IRI, opened in a browser, shows its page on A.
    await page.goto(proposal.iri);
    expect(page.url()).toBe(`${a.origin}/proposals/${proposal.id}`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Kinder tone");
    await context.close();
  });
});
