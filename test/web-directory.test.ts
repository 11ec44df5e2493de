/**
 * Finding and joining communities in a real browser across two real
 * instances. On A: a signed-out person finds communities in the directory;
 * people join an open community at once, ask to join one whose stewards
 * approve members (a steward approves), and join an invite-only one with a
 * single-use invite link that works once. Refused inputs (joining an
 * invite-only community without an invite, reusing an invite, a non-steward
 * approving) change nothing in A's database. On B: a person finds A's
 * communities in B's directory and follows one from the listing and one
 * from its page on B; B's feed then shows A's next version.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { accessibilityProblems, launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import { rows, snapshot } from "./db-snapshot.ts";
import { waitFor } from "./harness.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity, getCommunity, updateCommunity } from "../src/communities.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

const CONTENT = {
  title: "Club Rules",
  licence: "CC-BY-4.0",
  clauses: [{ id: "kind", authority: "root", text: "Be kind to club members." }],
};

let a: LocalInstance;
let b: LocalInstance;
let browser: Browser;
let alice: { token: string };
let erin: { token: string };
let frank: { token: string };
const pageErrors: string[] = [];

async function open(instance: LocalInstance, username?: string, options: { phone?: boolean } = {}): Promise<{ page: Page; close: () => Promise<void> }> {
  const context = await newContext(browser, options);
  const page = await context.newPage();
  pageErrors.push(...watchPageErrors(page));
  if (username) await signIn(page, instance.origin, username);
  return { page, close: () => context.close() };
}

function memberCount(instance: LocalInstance, handle: string, username: string): number {
  return rows<{ n: number }>(
    instance,
    "SELECT count(*) AS n FROM memberships m JOIN communities c ON c.id = m.community_id JOIN users u ON u.id = m.user_id WHERE c.handle = ? AND u.username = ?",
    handle,
    username,
  )[0]!.n;
}

async function audit(page: Page, name: string) {
  expect(await accessibilityProblems(page), name).toEqual([]);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  const viewport = page.viewportSize()!.width;
  expect(width, `${name} fits its viewport`).toBeLessThanOrEqual(viewport);
}

beforeAll(async () => {
  [a, b, browser] = await Promise.all([startLocalInstance(), startLocalInstance(), launchBrowser()]);
  [alice, , erin, frank] = await Promise.all([a.createUser("alice"), a.createUser("dave"), a.createUser("erin"), a.createUser("frank")]);
  await Promise.all([b.createUser("bob"), b.createUser("bea")]);
  const steward = await getUserByUsername(a.instance.db, "alice");
  await createCommunity(a.instance.db, { handle: "club", name: "Open Club", summary: "Anyone may come in.", steward });
  await createCommunity(a.instance.db, { handle: "nurses", name: "Ward Nurses", summary: "Nurses of the night ward.", steward });
  await createCommunity(a.instance.db, { handle: "secret", name: "Secret Circle", summary: "By invitation.", steward });
  await updateCommunity(a.instance.db, await getCommunity(a.instance.db, "club"), { joinPolicy: "open" });
  // The join policy is also set through the API, as stewards' scripts do.
  const patched = await a.api<{ joinPolicy: string }>("PATCH", "communities/secret", { token: alice.token, body: { joinPolicy: "invite" } });
  expect(patched.body.joinPolicy).toBe("invite");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([a?.destroy(), b?.destroy()]);
});

describe("the directory and joining on one instance", () => {
  it("shows a signed-out person every community with its join policy, and searches without JavaScript", async () => {
    for (const phone of [false, true]) {
      const { page, close } = await open(a, undefined, { phone });
      await page.goto(a.origin);
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Communities" }).click();
      expect(page.url()).toBe(`${a.origin}/communities`);
      const main = (await page.locator("main").textContent()) ?? "";
      for (const text of ["Open Club", "Ward Nurses", "Secret Circle", "Anyone may join", "Stewards approve new members", "By invitation only"]) {
        expect(main).toContain(text);
      }
      expect(await page.getByRole("link", { name: "Sign in to join" }).count()).toBe(2);
      await audit(page, "directory, signed out");
      await screenshot(page, phone ? "directory-phone" : "directory");
      await page.getByLabel("Search by name, handle or summary").fill("night ward");
      await page.getByRole("button", { name: "Search" }).click();
      expect(page.url()).toBe(`${a.origin}/communities?q=night+ward`);
      expect(await page.locator(".directory-entry").count()).toBe(1);
      expect(await page.locator(".directory-entry").textContent()).toContain("Ward Nurses");
      await close();
    }
    // An over-long search is refused beside the field, with nothing found.
    const { page, close } = await open(a);
    const response = await page.goto(`${a.origin}/communities?q=${"x".repeat(101)}`);
    expect(response?.status()).toBe(400);
    expect(await page.locator("#q-error").textContent()).toContain("at most 100 characters");
    await close();
  });

  it("joins an open community at once and leaves it again", async () => {
    const { page, close } = await open(a, "dave");
    await page.goto(`${a.origin}/communities`);
    await page.getByRole("button", { name: "Join Open Club" }).click();
    expect(await page.getByRole("status").first().textContent()).toContain("You joined Open Club.");
    expect(memberCount(a, "club", "dave")).toBe(1);
    await page.goto(`${a.origin}/actors/club`);
    expect(await page.locator(".join-control").textContent()).toContain("You are a member");
    await page.getByRole("button", { name: "Leave community" }).click();
    expect(await page.getByRole("status").textContent()).toBe("You left Open Club.");
    expect(memberCount(a, "club", "dave")).toBe(0);
    await close();
  });

  it("asks to join a community whose stewards approve members; withdraws, asks again, and a steward approves", async () => {
    const { page, close } = await open(a, "dave");
    await page.goto(`${a.origin}/actors/nurses`);
    await audit(page, "community page, not a member");
    await screenshot(page, "directory-community-nonmember");
    await page.getByLabel("A note to the stewards (optional)").fill("I work nights on ward 4.");
    await page.getByRole("button", { name: "Ask to join Ward Nurses" }).click();
    expect(await page.getByRole("status").textContent()).toContain("Asked to join Ward Nurses");
    expect(await page.locator(".join-control").textContent()).toContain("Request to join sent");
    expect(memberCount(a, "nurses", "dave")).toBe(0);
    await page.getByRole("button", { name: "Withdraw request" }).click();
    expect(await page.getByRole("status").textContent()).toBe("Your request to join was withdrawn.");
    expect(rows(a, "SELECT * FROM join_requests")).toEqual([]);
    await page.getByLabel("A note to the stewards (optional)").fill("I work nights on ward 4.");
    await page.getByRole("button", { name: "Ask to join Ward Nurses" }).click();

    // A non-steward cannot answer the request: nothing changes.
    const [request] = rows<{ id: number }>(a, "SELECT id FROM join_requests WHERE state = 'pending'");
    const before = snapshot(a);
    const refused = await a.api("POST", `communities/nurses/join-requests/${request!.id}/approve`, { token: erin.token });
    expect(refused.status).toBe(403);
    expect(snapshot(a)).toEqual(before);

    const steward = await open(a, "alice");
    await steward.page.goto(`${a.origin}/actors/nurses`);
    await steward.page.getByRole("link", { name: "Join requests and invite links" }).click();
    expect(await steward.page.locator(".join-requests").textContent()).toContain("I work nights on ward 4.");
    await audit(steward.page, "join requests page");
    await screenshot(steward.page, "directory-requests");
    await steward.page.getByRole("button", { name: "Approve dave" }).click();
    expect(await steward.page.getByRole("status").textContent()).toBe("dave is now a member.");
    expect(memberCount(a, "nurses", "dave")).toBe(1);
    // The steward was told of each request, and dave of the answer.
    const told = (username: string, kind: string) =>
      rows<{ text: string }>(a, "SELECT n.text FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.username = ? AND n.kind = ?", username, kind).map((row) => row.text);
    expect(told("alice", "join.requested")).toEqual([
      "dave (@dave) asked to join Ward Nurses: “I work nights on ward 4.”",
      "dave (@dave) asked to join Ward Nurses: “I work nights on ward 4.”",
    ]);
    expect(told("dave", "join.decided")).toEqual(["You are now a member of Ward Nurses."]);
    await page.goto(`${a.origin}/actors/nurses`);
    expect(await page.locator(".join-control").textContent()).toContain("You are a member");
    await steward.close();
    await close();
  });

  it("refuses joining an invite-only community without an invite, and the invite link works once", async () => {
    const before = snapshot(a);
    const refused = await a.api<{ detail: string }>("POST", "communities/secret/join", { token: erin.token, body: {} });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain("invitation only");
    expect(snapshot(a)).toEqual(before);

    const steward = await open(a, "alice");
    await steward.page.goto(`${a.origin}/actors/secret/requests`);
    await steward.page.getByLabel("Who may use it").selectOption("true");
    await steward.page.getByRole("button", { name: "Create invite link" }).click();
    const url = await steward.page.getByLabel("Link to copy").inputValue();
    expect(url).toMatch(new RegExp(`^${a.origin}/join/fdi_`));
    // Only a hash of the token is kept.
    const token = decodeURIComponent(url.split("/join/")[1]!);
    expect(JSON.stringify(rows(a, "SELECT * FROM community_invites"))).not.toContain(token);
    await steward.close();

    const { page, close } = await open(a, "erin");
    await page.goto(url);
    await audit(page, "invite page");
    await page.getByRole("button", { name: "Join Secret Circle" }).click();
    await page.waitForURL(`${a.origin}/actors/secret`);
    expect(await page.getByRole("status").textContent()).toBe("You joined Secret Circle.");
    expect(memberCount(a, "secret", "erin")).toBe(1);
    await close();

    // Used once: the page says so, and redeeming again changes nothing.
    const second = await open(a, "frank");
    await second.page.goto(url);
    expect(await second.page.locator("main").textContent()).toContain("already been used");
    expect(await second.page.getByRole("button", { name: "Join Secret Circle" }).count()).toBe(0);
    const unchanged = snapshot(a);
    const reused = await a.api("POST", "community-invites/redeem", { token: frank.token, body: { token } });
    expect(reused.status).toBe(403);
    expect(snapshot(a)).toEqual(unchanged);
    expect(memberCount(a, "secret", "frank")).toBe(0);
    await second.close();
  });
});

describe("following A's communities from B", () => {
  it("finds them in B's directory, follows one from the listing and one from its page on B, and B's feed shows A's next version", async () => {
    // Someone on B followed two of A's communities by handle, so B knows them.
    const bob = await open(b, "bob");
    for (const handle of ["club", "secret"]) {
      await bob.page.goto(`${b.origin}/follow`);
      await bob.page.getByLabel("Who or what to follow").fill(`@${handle}@${a.host}`);
      await bob.page.getByRole("button", { name: "Follow", exact: true }).click();
      await bob.page.waitForURL(`${b.origin}/follow`);
    }
    await bob.close();

    const { page, close } = await open(b, "bea");
    await page.goto(`${b.origin}/communities`);
    const elsewhere = page.getByRole("region", { name: "Elsewhere" });
    expect(await elsewhere.textContent()).toContain("Open Club");
    expect(await elsewhere.textContent()).toContain(`on ${a.host}`);
    await audit(page, "directory on B with remote communities");
    await screenshot(page, "directory-remote");
    await elsewhere.getByRole("button", { name: "Follow Open Club" }).click();
    expect(await page.getByRole("status").first().textContent()).toContain("Open Club");
    expect(await elsewhere.locator(".directory-entry", { hasText: "Open Club" }).textContent()).toMatch(/Requested|Following/);

    // The other from its page on B.
    await elsewhere.getByRole("link", { name: "Secret Circle" }).click();
    expect(page.url()).toMatch(new RegExp(`^${b.origin}/remote-actors/\\d+$`));
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Secret Circle");
    await page.getByRole("button", { name: "Follow Secret Circle" }).click();
    expect(await page.locator(".follow-control").textContent()).toMatch(/Requested|Following/);
    await audit(page, "remote community page on B");
    await screenshot(page, "directory-remote-community");

    // Follow, Accept: carried out now rather than by the dispatchers' next pass.
    const beaIri = b.actorUri("bea");
    await b.flushOutbox();
    await waitFor(
      async () => {
        await a.flushOutbox();
        return rows<{ n: number }>(b, "SELECT count(*) AS n FROM follows WHERE follower_iri = ? AND state = 'accepted'", beaIri)[0]!.n === 2;
      },
      { what: "A to accept both of bea's follows" },
    );
    await page.reload();
    expect(await page.locator(".follow-control").textContent()).toContain("Following");
    await page.goto(`${b.origin}/communities`);
    expect(await page.getByRole("region", { name: "Elsewhere" }).locator(".directory-entry", { hasText: "Open Club" }).textContent()).toContain("Following");

    // A publishes; B's feed shows it to bea.
    const created = await a.api<{ id: number }>("POST", "policies", { token: alice.token, body: { community: "club", slug: "rules", content: CONTENT } });
    expect(created.status).toBe(201);
    expect((await a.api("POST", `policies/${created.body.id}/publish`, { token: alice.token, body: {} })).status).toBe(201);
    await waitFor(
      async () => {
        await a.flushOutbox();
        await page.goto(`${b.origin}/feed`);
        return (await page.locator("main").textContent())?.includes("Club Rules version 1");
      },
      { what: "A's version in bea's feed on B", intervalMs: 300 },
    );
    // Unfollowing from the remote page brings the button back.
    await page.goto(`${b.origin}/communities`);
    await page.getByRole("link", { name: "Secret Circle" }).click();
    await page.getByRole("button", { name: "Unfollow Secret Circle" }).click();
    expect(await page.getByRole("button", { name: "Follow Secret Circle" }).count()).toBe(1);
    await close();
    expect(pageErrors).toEqual([]);
  });
});
