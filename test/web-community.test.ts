/**
 * Communities, following and the feed in a real browser across two real
 * instances: on A a user creates a community (a bad handle is refused beside
 * the field) and makes it approve followers by hand; on B a user follows it
 * by @handle@host, A's steward approves, B sees the follow accepted; A
 * publishes versions and B's feed and home show them with a link to the
 * diff; unfollowing empties B's feed and reaches A.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import { eq } from "drizzle-orm";
import { first, closeDatabase, databasePath, openDatabase } from "../db/client.ts";
import { policies, policyVersions } from "../db/schema.ts";
import { freePort, startInstance, waitFor, type TestInstance } from "./harness.ts";

const CONTENT = {
  title: "Ward Assistant Policy",
  summary: "How assistants behave on the ward.",
  licence: "CC-BY-4.0",
  sections: [{ id: "safety", title: "Safety", parent: null, text: "Patients first." }],
  clauses: [
    { id: "no_dosage_guessing", section: "safety", authority: "root", text: "Never state a dosage without citing the guideline it comes from." },
    { id: "plain_language", section: "safety", authority: "user", text: "Use plain language unless the user is a clinician." },
  ],
};

describe("communities, follows and the feed in the browser", () => {
  let a: TestInstance;
  let b: TestInstance;
  let browser: Browser;
  let alice: { token: string };
  let bob: { token: string };
  let v2Iri: string;
  let contextA: BrowserContext;
  let contextB: BrowserContext;
  let pageA: Page;
  let pageB: Page;
  let errorsA: string[];
  let errorsB: string[];
  let policyId: number;

  /** Reloads `url` until `text` shows in the page's main content. */
  async function waitForText(page: Page, url: string, text: string, what: string) {
    await waitFor(
      async () => {
        await page.goto(url);
        return (await page.locator("main").textContent())?.includes(text);
      },
      { what, intervalMs: 300 },
    );
  }

  beforeAll(async () => {
    [a, b, browser] = await Promise.all([startInstance(), startInstance(), launchBrowser()]);
    [alice, bob] = await Promise.all([a.createUser("alice"), b.createUser("bob"), a.createUser("carol")]);
    [contextA, contextB] = await Promise.all([newContext(browser), newContext(browser)]);
    [pageA, pageB] = await Promise.all([contextA.newPage(), contextB.newPage()]);
    errorsA = watchPageErrors(pageA);
    errorsB = watchPageErrors(pageB);
    await Promise.all([await signIn(pageA, a.origin, "alice"), await signIn(pageB, b.origin, "bob")]);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([a?.destroy(), b?.destroy()]);
  });

  it("creates a community on A, refusing a bad handle beside the field", async () => {
    await pageA.goto(a.origin);
    await pageA.getByRole("link", { name: "Create a community" }).click();
    expect(pageA.url()).toBe(`${a.origin}/communities/new`);
    await pageA.getByLabel("Handle").fill("Ward Nurses!");
    await pageA.getByLabel("Name").fill("Ward Nurses");
    await pageA.getByLabel("Summary").fill("Nurses of the <b>night</b> ward.");
    await pageA.getByRole("button", { name: "Create community" }).click();
    expect(await pageA.locator("#handle-error").textContent()).toContain("lower-case letters");
    expect(await pageA.getByLabel("Handle").getAttribute("aria-invalid")).toBe("true");
    expect(await pageA.getByLabel("Name").inputValue()).toBe("Ward Nurses");
    await screenshot(pageA, "community-new");

    await pageA.getByLabel("Handle").fill("nurses");
    await pageA.getByRole("button", { name: "Create community" }).click();
    await pageA.waitForURL(`${a.origin}/actors/nurses`);
    expect(await pageA.getByRole("status").textContent()).toContain("Created Ward Nurses");
    expect(await pageA.getByRole("heading", { level: 1 }).textContent()).toBe("Ward Nurses");
    // The summary is text, not markup.
    expect(await pageA.locator("main").textContent()).toContain("Nurses of the <b>night</b> ward.");
    expect(await pageA.locator("#members + .table-wrap").textContent()).toContain("steward");

    // Stewards add and remove members; an unknown username is refused beside the field.
    await pageA.getByLabel("Username on this instance").fill("nobody_here");
    await pageA.getByRole("button", { name: "Add member" }).click();
    expect(await pageA.locator("#username-error").textContent()).toContain("nobody_here");
    await pageA.getByLabel("Username on this instance").fill("carol");
    await pageA.getByRole("button", { name: "Add member" }).click();
    expect(await pageA.getByRole("status").textContent()).toBe("carol is now a member.");
    expect(await pageA.getByRole("row", { name: /carol/ }).textContent()).toContain("member");
    await pageA.getByRole("button", { name: "Remove carol" }).click();
    expect(await pageA.getByRole("status").textContent()).toBe("Removed carol from the community.");
    expect(await pageA.getByRole("row", { name: /carol/ }).count()).toBe(0);

    // Followers must be approved by a steward from now on.
    await pageA.getByLabel("Who may follow").selectOption("true");
    await pageA.getByRole("button", { name: "Save settings" }).click();
    expect(await pageA.getByRole("status").textContent()).toBe("Settings saved.");
    expect(await pageA.locator("main").textContent()).toContain("approves followers by hand");

    // The community is listed on A's home with its handle.
    await pageA.goto(a.origin);
    const row = pageA.getByRole("row", { name: /Ward Nurses/ });
    expect(await row.textContent()).toContain(`@nurses@${a.host}`);
    expect(await pageA.locator("#mine + ul").textContent()).toContain("Ward Nurses");
  });

  it("follows the community from B by @handle@host; A's steward approves and B sees it accepted", async () => {
    await pageB.goto(`${b.origin}/follow`);
    await pageB.getByLabel("Who or what to follow").fill(`@nobody_here@${a.host}`);
    await pageB.getByRole("button", { name: "Follow", exact: true }).click();
    expect((await pageB.locator("#target-error").textContent())?.length).toBeGreaterThan(0);
    expect(await pageB.getByLabel("Who or what to follow").inputValue()).toBe(`@nobody_here@${a.host}`);

    const closed = `@nurses@127.0.0.1:${await freePort()}`;
    await pageB.getByLabel("Who or what to follow").fill(closed);
    await pageB.getByRole("button", { name: "Follow", exact: true }).click();
    expect((await pageB.locator("#target-error").textContent())?.length).toBeGreaterThan(0);
    expect(await pageB.getByRole("row").count()).toBe(0);

    await pageB.getByLabel("Who or what to follow").fill(`@nurses@${a.host}`);
    await pageB.getByRole("button", { name: "Follow", exact: true }).click();
    await pageB.waitForURL(`${b.origin}/follow`);
    expect(await pageB.getByRole("status").textContent()).toContain("pending");
    const followRow = pageB.getByRole("row", { name: /Ward Nurses/ });
    expect(await followRow.textContent()).toContain("pending");

    // A's steward sees the request and approves it.
    await waitForText(pageA, `${a.origin}/actors/nurses`, "Follow requests waiting for approval", "the follow request on A");
    await pageA.getByRole("button", { name: "Approve" }).click();
    expect(await pageA.getByRole("status").textContent()).toContain(`@bob@${b.host} now follows the community`);
    expect(await pageA.getByRole("list", { name: "Followers" }).textContent()).toContain(`@bob@${b.host}`);

    await waitForText(pageB, `${b.origin}/follow`, "accepted", "B's follow to be accepted");
    expect(await pageB.getByRole("row", { name: /Ward Nurses/ }).textContent()).toContain("accepted");
    await screenshot(pageB, "community-follow");
  });

  it("shows A's new versions in B's feed and on B's home, with the diff against the previous one", async () => {
    const imported = await a.api<{ policy: { id: number; iri: string } }>("POST", "policies/import", {
      token: alice.token,
      body: { community: "nurses", format: "json", source: JSON.stringify(CONTENT), slug: "ward" },
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    policyId = imported.body.policy.id;
    expect((await a.api("POST", `policies/${policyId}/publish`, { token: alice.token, body: { message: "Adopted in March." } })).status).toBe(201);

    await waitForText(pageB, `${b.origin}/feed`, "Ward Assistant Policy version 1", "version 1 in B's feed");
    expect(await pageB.locator("main").textContent()).toContain("Adopted in March.");

    const draft = structuredClone(CONTENT);
    draft.clauses[1]!.text = "Use plain, everyday language unless the user is a clinician.";
    expect((await a.api("PUT", `policies/${policyId}/draft`, { token: alice.token, body: draft })).status).toBe(200);
    const v2 = await a.api<{ iri: string }>("POST", `policies/${policyId}/publish`, { token: alice.token, body: { message: "Plainer words." } });
    expect(v2.status).toBe(201);
    v2Iri = v2.body.iri;

    await waitForText(pageB, `${b.origin}/feed`, "Ward Assistant Policy version 2", "version 2 in B's feed");
    const items = pageB.getByRole("list", { name: "Updates" }).getByRole("listitem");
    expect(await items.count()).toBe(2);
    expect(await items.first().textContent()).toContain("version 2");
    const diff = items.first().getByRole("link", { name: "Changes since version 1" });
    const href = await diff.getAttribute("href");
    expect(href).toMatch(/^\/policies\/\d+\/diff\?from=1&to=2$/);
    expect(await items.first().getByRole("link", { name: "Ward Nurses" }).count()).toBe(1);
    await screenshot(pageB, "community-feed");

    await pageB.goto(b.origin);
    const recent = pageB.getByRole("list", { name: "Recent versions from what you follow" });
    expect(await recent.getByRole("listitem").first().textContent()).toContain("Ward Assistant Policy version 2");
    await screenshot(pageB, "community-home");

    // Fifty to a page: with 55 more versions recorded on B, the feed pages back with "Older".
    const db = openDatabase(databasePath(b.dataDir), { mustExist: true });
    try {
      const mirror = (await first(db.select().from(policies).where(eq(policies.iri, imported.body.policy.iri)).limit(1)))!;
      const v2Row = (await first(db.select().from(policyVersions).where(eq(policyVersions.iri, v2Iri)).limit(1)))!;
      const base = Date.now() + 1000;
      for (let number = 3; number <= 57; number++) {
        const iri = `${mirror.iri}/versions/${number}`;
        await db.insert(policyVersions)
          .values({ ...v2Row, id: undefined, iri, number, changelog: `Step ${number}.`, publishedAt: new Date(base + number), receivedAt: new Date(base + number) });
      }
    } finally {
      closeDatabase(db);
    }
    await pageB.goto(`${b.origin}/feed`);
    expect(await items.count()).toBe(50);
    expect(await items.first().textContent()).toContain("version 57");
    expect(await pageB.getByRole("link", { name: "Newer" }).count()).toBe(0);
    await pageB.getByRole("link", { name: "Older" }).click();
    expect(pageB.url()).toBe(`${b.origin}/feed?page=2`);
    expect(await items.count()).toBe(7);
    expect(await items.last().textContent()).toContain("Ward Assistant Policy version 1");
    expect(await pageB.getByRole("link", { name: "Older" }).count()).toBe(0);
    expect(await pageB.getByRole("link", { name: "Newer" }).count()).toBe(1);

    // A's community page lists the policy and its follower.
    await pageA.goto(`${a.origin}/actors/nurses`);
    expect(await pageA.locator("#policies + ul").textContent()).toContain("Ward Assistant Policy version 2");
    expect(await pageA.getByRole("link", { name: "Ward Assistant Policy" }).getAttribute("href")).toBe(`/policies/${policyId}`);
    await screenshot(pageA, "community-page");
  });

  it("unfollows from B: the row goes, the feed empties and A no longer lists B's user", async () => {
    await pageB.goto(`${b.origin}/follow`);
    await pageB.getByRole("button", { name: "Unfollow Ward Nurses" }).click();
    expect(await pageB.getByRole("status").textContent()).toBe("Unfollowed Ward Nurses.");
    expect(await pageB.getByRole("row", { name: /Ward Nurses/ }).count()).toBe(0);
    await pageB.goto(`${b.origin}/feed`);
    expect(await pageB.locator("main").textContent()).toContain("Nothing has arrived yet.");

    await waitForText(pageA, `${a.origin}/actors/nurses`, "No followers yet.", "A to drop the follower");
  });

  it("shows A's steward a remote annotation (inert) and a fork in the feed, and the fork on the community page", async () => {
    const hostile = `<script>document.title="owned"</script> Plain is good; see javascript:alert(1) <a href="javascript:alert(2)">here</a>`;
    const annotated = await b.api("POST", "annotations", {
      token: bob.token,
      body: { target: `${v2Iri}/clauses/plain_language`, motivation: "endorse", text: hostile },
    });
    expect(annotated.status, JSON.stringify(annotated.body)).toBe(201);
    expect((await b.api("POST", "communities", { token: bob.token, body: { handle: "clinic", name: "Night Clinic" } })).status).toBe(201);
    const forked = await b.api<{ iri: string }>("POST", "policies/fork", { token: bob.token, body: { version: v2Iri, into: "clinic" } });
    expect(forked.status, JSON.stringify(forked.body)).toBe(201);

    await waitFor(
      async () => {
        await pageA.goto(`${a.origin}/feed`);
        const text = (await pageA.locator("main").textContent()) ?? "";
        return text.includes("endorsed") && text.includes("forked");
      },
      { what: "the annotation and the fork in A's feed", intervalMs: 300 },
    );
    const feed = pageA.getByRole("list", { name: "Updates" });
    const annotation = feed.locator(".feed-annotation");
    expect(await annotation.textContent()).toContain(`bob @bob@${b.host}`);
    expect(await annotation.locator(".feed-text").textContent()).toBe(hostile);
    expect(await annotation.locator("script").count()).toBe(0);
    expect(await feed.locator('a[href^="javascript:"]').count()).toBe(0);
    expect(await pageA.title()).not.toBe("owned");
    const fork = feed.locator(".feed-fork");
    expect(await fork.textContent()).toContain("forked Ward Assistant Policy");
    expect(await fork.getByRole("link", { name: "their fork" }).getAttribute("href")).toBe(forked.body.iri);
    await screenshot(pageA, "community-feed-steward");

    await pageA.goto(`${a.origin}/actors/nurses`);
    expect(await pageA.locator("#forks + ul").textContent()).toContain("Night Clinic");

    // A steward on B follows it as their community; it waits for A's approval.
    await pageB.goto(`${b.origin}/follow`);
    await pageB.getByLabel("Who or what to follow").fill(`@nurses@${a.host}`);
    await pageB.getByLabel("Follow as").selectOption("clinic");
    await pageB.getByRole("button", { name: "Follow", exact: true }).click();
    expect(await pageB.getByRole("status").textContent()).toContain("pending");
    const clinicFollows = pageB.getByRole("region", { name: /What Night Clinic/ });
    expect(await clinicFollows.getByRole("row", { name: /Ward Nurses/ }).textContent()).toContain("pending");
    expect(await pageB.getByRole("region", { name: "What you follow (0)" }).getByRole("row").count()).toBe(0);
    await waitForText(pageA, `${a.origin}/actors/nurses`, "Follow requests waiting for approval (1)", "clinic's follow request on A");
    expect(await pageA.locator("#followers ~ ul").first().textContent()).toContain(`@clinic@${b.host}`);
    expect(await pageA.getByRole("button", { name: "Approve" }).count()).toBe(1);

    // The steward's community page, with its tables and forms, fits a phone.
    const phone = await newContext(browser, { phone: true });
    const phonePage = await phone.newPage();
    await signIn(phonePage, a.origin, "alice");
    await phonePage.goto(`${a.origin}/actors/nurses`);
    expect(await phonePage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await screenshot(phonePage, "community-page-phone");
    await phone.close();
    expect(errorsA).toEqual([]);
    expect(errorsB).toEqual([]);
  });
});
