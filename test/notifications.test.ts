/**
 * Notifications across three real instances over loopback (signatures
 * verified): each kind reaches the right person exactly once (also when the
 * activity behind it arrives twice) and nobody else; the unread count is in
 * the header, /notifications lists them without marking anything read, and
 * marking read is a button. Also: the feed sorts by publication time (a
 * version published earlier but received later sorts below newer ones, and
 * one dated in the future cannot pin itself to the top), and a proposal made
 * from an accepted offer reaches the policy's followers like any other.
 *
 * A and B share one ManualClock; C's clock runs an hour behind theirs (and
 * later a day ahead), like a peer with a wrong clock.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { first, countRows } from "../db/client.ts";
import { fedifyQueue, remoteProposals } from "../db/schema.ts";
import type { NotificationPage, NotificationView } from "../src/app/notifications.ts";
import { recordEffect } from "../src/app/outbox.ts";
import type { Effect } from "../src/app/effects.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { feedPage } from "../src/follows.ts";
import { changeSetFromContents } from "../src/policies/changeset.ts";
import type { PolicyContent } from "../src/policies/content.ts";
import { readerScope } from "../src/web/pages/home-pages.tsx";
import { accessibilityProblems, launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import { rawSql, runCli, waitFor } from "./harness.ts";
import { ManualClock, startLocalInstance, type LocalInstance } from "./local-instance.ts";

const HOUR = 3_600_000;
const clock = new ManualClock();
const clockC = new ManualClock(clock.now().getTime() - HOUR);

const CONTENT = {
  title: "Ward Assistant Policy",
  licence: "CC-BY-4.0",
  clauses: [
    { id: "escalate", authority: "root", text: "Tell the user to call emergency services when they describe chest pain." },
    { id: "tone", authority: "guideline", text: "Be calm." },
  ],
} as unknown as PolicyContent;

const withTone = (text: string) => ({ ...CONTENT, clauses: CONTENT.clauses.map((c) => (c.id === "tone" ? { ...c, text } : c)) }) as PolicyContent;

let a: LocalInstance, b: LocalInstance, c: LocalInstance;
let browser: Browser;
type Token = { token: string };
let stella: Token, mo: Token, zed: Token, bob: Token, bea: Token, carl: Token;
let policy: { id: number; iri: string };

async function notificationsOf(instance: LocalInstance, user: Token, kind?: NotificationView["kind"]): Promise<NotificationView[]> {
  const page = await instance.api<NotificationPage>("GET", "notifications", { token: user.token });
  expect(page.status).toBe(200);
  return page.body.items.filter((item) => kind === undefined || item.kind === kind);
}

/** Waits until the person has a notification of this kind, and returns all of that kind. */
async function arrives(instance: LocalInstance, user: Token, kind: NotificationView["kind"], what: string): Promise<NotificationView[]> {
  return waitFor(async () => {
    const found = await notificationsOf(instance, user, kind);
    return found.length > 0 ? found : undefined;
  }, { what });
}

/** Every outbox row sent and every queued delivery and inbox message handled, on every instance. */
async function quiet(): Promise<void> {
  for (let round = 0; round < 2; round++) {
    await Promise.all([a, b, c].map((x) => x.flushOutbox()));
    await waitFor(async () => (await Promise.all([a, b, c].map((x) => countRows(x.instance.db, fedifyQueue)))).every((n) => n === 0), {
      what: "the queues to drain",
    });
  }
}

async function head(instance: LocalInstance, id: number): Promise<{ contentHash: string; iri: string; number: number }> {
  const detail = await instance.api<{ versions: { contentHash: string; iri: string; number: number }[] }>("GET", `policies/${id}`);
  return detail.body.versions.at(-1)!;
}

async function propose(title: string, tone: string, by: Token): Promise<{ id: number; iri: string; closesAt: string }> {
  const current = (await a.api<PolicyContent>("GET", `policies/${policy.id}/draft`, { token: stella.token })).body;
  const changes = changeSetFromContents(current, { ...current, clauses: current.clauses.map((c) => (c.id === "tone" ? { ...c, text: tone } : c)) });
  const closesAt = new Date(clock.now().getTime() + 2 * HOUR).toISOString();
  const created = await a.api<{ id: number; iri: string; closesAt: string }>("POST", `policies/${policy.id}/proposals`, { token: by.token, body: { title, changes, closesAt } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

async function follow(instance: LocalInstance, user: Token, target: string, state = "accepted"): Promise<void> {
  expect((await instance.api("POST", "follows", { token: user.token, body: { target } })).status).toBe(202);
  await waitFor(async () => (await instance.api<{ followee: string; state: string }[]>("GET", "follows", { token: user.token })).body.some((f) => f.state === state), {
    what: `a follow of ${target} to be ${state}`,
  });
}

beforeAll(async () => {
  [a, b, c, browser] = await Promise.all([startLocalInstance({ clock }), startLocalInstance({ clock }), startLocalInstance({ clock: clockC }), launchBrowser()]);
  [stella, mo, zed, bob, bea, carl] = await Promise.all([
    a.createUser("stella"),
    a.createUser("mo"),
    a.createUser("zed"),
    b.createUser("bob"),
    b.createUser("bea"),
    c.createUser("carl"),
  ]);
  expect((await a.api("POST", "communities", { token: stella.token, body: { handle: "nurses", name: "Night Nurses" } })).status).toBe(201);
  await a.api("PUT", "communities/nurses/members/mo", { token: stella.token, body: { role: "member" } });
  const rules = await a.api("PUT", "communities/nurses/decision-rules", {
    token: stella.token,
    body: { rules: { guideline: { quorum: 0.5, threshold: "majority", blocks: false, minOpenHours: 1 } }, adoptMode: "draft" },
  });
  expect(rules.status, JSON.stringify(rules.body)).toBe(200);
  expect((await b.api("POST", "communities", { token: bob.token, body: { handle: "clinic", name: "Clinic" } })).status).toBe(201);
  expect((await c.api("POST", "communities", { token: carl.token, body: { handle: "far", name: "Far Away" } })).status).toBe(201);
  policy = (await a.api<{ id: number; iri: string }>("POST", "policies", { token: stella.token, body: { community: "nurses", slug: "ward", content: CONTENT } })).body;
  expect((await a.api("POST", `policies/${policy.id}/publish`, { token: stella.token, body: {} })).status).toBe(201);
  // bob (on B) and zed (on A) follow the community; bea follows nothing.
  await follow(b, bob, `@nurses@${a.host}`);
  await follow(a, zed, `@nurses@${a.host}`);
  await waitFor(async () => (await b.api("GET", `policies/lookup?ref=${encodeURIComponent(policy.iri)}`)).status === 200, { what: "B to hold the policy" });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([a?.destroy(), b?.destroy(), c?.destroy()]);
});

describe("notifications", () => {
  it("tells a community's members of a proposal opened and closed, and followers elsewhere", async () => {
    const proposal = await propose("Kinder tone", "Be calm and kind.", mo);
    const opened = await notificationsOf(a, stella, "proposal.opened");
    expect(opened.map((n) => [n.subject, n.url])).toEqual([[proposal.iri, proposal.iri]]);
    expect(opened[0]!.text).toContain("Kinder tone");
    expect(await notificationsOf(a, mo)).toEqual([]); // who opened it is not told
    expect((await notificationsOf(a, zed, "proposal.opened")).map((n) => n.subject)).toEqual([proposal.iri]); // a follower here
    const remote = await arrives(b, bob, "proposal.opened", "bob to hear of the proposal on B");
    expect(remote.map((n) => n.subject)).toEqual([proposal.iri]);

    expect((await a.api("POST", `proposals/${proposal.id}/vote`, { token: mo.token, body: { value: "yes" } })).status).toBe(200);
    clock.set(new Date(Date.parse(proposal.closesAt) + 1000));
    await a.instance.runScheduledJobs();
    for (const member of [stella, mo, zed]) {
      const closed = await notificationsOf(a, member, "proposal.closed");
      expect(closed.map((n) => n.text)).toEqual([`The proposal “Kinder tone” on “Ward Assistant Policy” was adopted.`]);
    }
    expect((await arrives(b, bob, "proposal.closed", "bob to hear the proposal closed")).length).toBe(1);
    expect(await notificationsOf(b, bea)).toEqual([]);
  });

  it("tells followers here and elsewhere of a new version, and nobody else", async () => {
    expect((await a.api("POST", `policies/${policy.id}/publish`, { token: stella.token, body: { message: "Kinder tone adopted." } })).status).toBe(201);
    const v2 = await head(a, policy.id);
    const local = await notificationsOf(a, zed, "version.published");
    expect(local.map((n) => n.subject)).toEqual([v2.iri]);
    expect(local[0]!.text).toContain("published version 2 of “Ward Assistant Policy”: “Kinder tone adopted.”");
    const remote = await arrives(b, bob, "version.published", "bob to hear of version 2");
    expect(remote.map((n) => n.subject)).toEqual([v2.iri]);
    expect(await notificationsOf(a, stella, "version.published")).toEqual([]);
    expect(await notificationsOf(b, bea)).toEqual([]);

    // The same from the command line: listing marks nothing read, --read-all does.
    const listed = await runCli(["--server", a.origin, "--token", zed.token, "notifications", "--unread"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("published version 2 of “Ward Assistant Policy”");
    expect(listed.stdout).toContain("3 unread.");
    const read = await runCli(["--server", a.origin, "--token", zed.token, "notifications", "--read-all"]);
    expect(read.stdout.trim()).toBe("Marked 3 read; 0 unread.");
  });

  it("tells an annotation's author of replies from here and from another instance, not of their own", async () => {
    const v2 = await head(a, policy.id);
    const annotated = await a.api<{ iri: string }>("POST", "annotations", {
      token: stella.token,
      body: { target: `${v2.iri}/clauses/tone`, motivation: "question", text: "Should we say kind, or warm?" },
    });
    expect(annotated.status, JSON.stringify(annotated.body)).toBe(201);
    const parent = annotated.body.iri;
    // B holds it once the community re-shares it with its followers.
    await waitFor(async () => (await b.api<{ iri: string }[]>("GET", `annotations?target=${encodeURIComponent(`${v2.iri}/clauses/tone`)}`)).body.some((x) => x.iri === parent), {
      what: "B to hold stella's annotation",
    });
    const fromB = await b.api<{ iri: string }>("POST", "annotations", { token: bob.token, body: { target: parent, motivation: "comment", text: "Warm reads better." } });
    expect(fromB.status, JSON.stringify(fromB.body)).toBe(201);
    const replies = await arrives(a, stella, "annotation.replied", "stella to hear of bob's reply");
    expect(replies.map((n) => n.subject)).toEqual([fromB.body.iri]);
    expect(replies[0]!.text).toContain("replied to your annotation on clause tone of “Ward Assistant Policy”: “Warm reads better.”");

    const fromA = await a.api<{ iri: string }>("POST", "annotations", { token: mo.token, body: { target: parent, motivation: "comment", text: "Kind is plainer." } });
    expect(fromA.status).toBe(201);
    expect((await a.api("POST", "annotations", { token: stella.token, body: { target: parent, motivation: "comment", text: "Noted, thanks." } })).status).toBe(201);
    expect((await notificationsOf(a, stella, "annotation.replied")).map((n) => n.subject)).toEqual([fromA.body.iri, fromB.body.iri]);
    expect(await notificationsOf(a, mo, "annotation.replied")).toEqual([]);
  });

  it("tells the offering community's stewards that upstream rejected or accepted their offer, with the proposal it became", async () => {
    const v2 = await head(a, policy.id);
    const fork = await b.api<{ id: number; iri: string }>("POST", "policies/fork", { token: bob.token, body: { version: v2.iri, into: "clinic" } });
    expect(fork.status, JSON.stringify(fork.body)).toBe(201);
    const offerFrom = async (text: string, message: string): Promise<string> => {
      await b.api("PUT", `policies/${fork.body.id}/draft`, { token: bob.token, body: withTone(text) });
      expect((await b.api("POST", `policies/${fork.body.id}/publish`, { token: bob.token, body: {} })).status).toBe(201);
      const offered = await b.api<{ iri: string }>("POST", `policies/${fork.body.id}/offers`, { token: bob.token, body: { message } });
      expect(offered.status, JSON.stringify(offered.body)).toBe(201);
      await waitFor(async () => (await a.api<{ iri: string }[]>("GET", `policies/${policy.id}/offers`)).body.some((o) => o.iri === offered.body.iri), { what: "A to receive the offer" });
      return offered.body.iri;
    };
    const first = await offerFrom("Be calm and warm.", "Warmer");
    expect((await a.api("POST", "offers/reject", { token: stella.token, body: { offer: first, reason: "We prefer kind." } })).status).toBe(200);
    const rejected = await arrives(b, bob, "offer.rejected", "bob to hear the offer was rejected");
    expect(rejected.map((n) => [n.subject, n.text])).toEqual([[first, `Night Nurses rejected your offer “Warmer”: “We prefer kind.”`]]);

    const second = await offerFrom("Be calm, kind and brief.", "Briefer");
    expect((await a.api("POST", "offers/accept", { token: stella.token, body: { offer: second, asProposal: true } })).status).toBe(200);
    const proposals = await a.api<{ iri: string; title: string }[]>("GET", `policies/${policy.id}/proposals`);
    const fromOffer = proposals.body.find((p) => p.title === "Offer: Briefer")!;
    const accepted = await arrives(b, bob, "offer.accepted", "bob to hear the offer was accepted");
    expect(accepted.map((n) => [n.subject, n.url])).toEqual([[second, fromOffer.iri]]);
    expect(accepted[0]!.text).toContain("accepted your offer “Briefer” as a proposal");
    expect(await notificationsOf(b, bea)).toEqual([]);

    // The proposal federates like any other: followers of the policy's community see it open (feed and notification).
    expect((await notificationsOf(a, mo, "proposal.opened")).map((n) => n.subject)).toContain(fromOffer.iri);
    const heard = await waitFor(async () => (await notificationsOf(b, bob, "proposal.opened")).find((n) => n.subject === fromOffer.iri), {
      what: "the offer's proposal to reach bob",
    });
    expect(heard.text).toContain("Briefer");
    const feed = await feedPage(b.instance.db, await readerScope(b.instance.db, b.origin, await getUserByUsername(b.instance.db, "bob")), { offset: 0, limit: 20 });
    expect(feed.items.some((item) => item.kind === "proposal" && item.proposalIri === fromOffer.iri)).toBe(true);
  });

  it("tells a community's stewards of a follow request waiting for approval", async () => {
    expect((await a.api("PATCH", "communities/nurses", { token: stella.token, body: { manuallyApprovesFollowers: true } })).status).toBe(200);
    await follow(b, bea, `@nurses@${a.host}`, "pending");
    const requests = await arrives(a, stella, "follow.requested", "stella to hear of bea's request");
    expect(requests).toHaveLength(1);
    expect(requests[0]!.actor).toBe(b.actorUri("bea"));
    expect(requests[0]!.text).toContain("asks to follow @nurses");
    expect(await notificationsOf(a, mo, "follow.requested")).toEqual([]);
  });

  it("tells nobody twice when the same things arrive again", async () => {
    await quiet();
    const before = {
      stella: (await notificationsOf(a, stella)).length,
      bob: (await notificationsOf(b, bob)).length,
      zed: (await notificationsOf(a, zed)).length,
    };
    const offerProposal = (await notificationsOf(b, bob, "proposal.opened")).at(0)!.subject;
    const proposalId = Number(offerProposal.split("/").pop());
    const reply = (await notificationsOf(a, stella, "annotation.replied")).find((n) => n.actor === b.actorUri("bob"))!;
    const replyRow = (await rawSql(b.instance.db, (raw) => raw.prepare("SELECT note FROM annotations WHERE iri = ?").get(reply.subject))) as { note: string };
    const policyRow = (await rawSql(a.instance.db, (raw) => raw.prepare("SELECT id FROM policy_versions WHERE policy_id = ? ORDER BY number DESC").get(policy.id))) as {
      id: number;
    };
    const receivedBefore = (await first(b.instance.db.select().from(remoteProposals).where(eq(remoteProposals.iri, offerProposal)).limit(1)))!.receivedAt;
    const again = async (instance: LocalInstance, effect: Effect) => await instance.instance.db.transaction(async () => await recordEffect(instance.instance.db, effect, clock.now()));
    // Sent again with new activity ids, so no inbox drops them as seen before.
    await again(a, { kind: "proposal.opened", proposalId });
    await again(a, { kind: "version.published", policyId: policy.id, versionId: policyRow.id });
    await again(b, {
      kind: "annotation.created",
      identifier: "bob",
      policyIri: policy.iri,
      annotationIri: reply.subject,
      authorIri: b.actorUri("bob"),
      note: JSON.parse(replyRow.note) as Record<string, unknown>,
    });
    await quiet();
    await waitFor(async () => (await first(b.instance.db.select().from(remoteProposals).where(eq(remoteProposals.iri, offerProposal)).limit(1)))!.receivedAt > receivedBefore, {
      what: "B to take the proposal again",
    });
    expect((await notificationsOf(a, stella)).length).toBe(before.stella);
    expect((await notificationsOf(b, bob)).length).toBe(before.bob);
    expect((await notificationsOf(a, zed)).length).toBe(before.zed);
  });

  it("shows the unread count in the header; reading the list marks nothing, the buttons do", async () => {
    for (const phone of [false, true]) {
      const context = await newContext(browser, { phone });
      const page = await context.newPage();
      const errors = watchPageErrors(page);
      await signIn(page, a.origin, "stella");
      const unread = (await a.api<NotificationPage>("GET", "notifications", { token: stella.token })).body.unread;
      expect(unread).toBeGreaterThan(0);
      const link = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: /^Notifications/ });
      expect(await link.textContent()).toBe(`Notifications ${unread} unread`);
      await link.click();
      await page.reload();
      expect(await link.textContent()).toBe(`Notifications ${unread} unread`);
      expect(await page.locator(".notification-unread").count()).toBe(unread);
      expect(await accessibilityProblems(page)).toEqual([]);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(width).toBeLessThanOrEqual(phone ? 390 : 1280);
      await screenshot(page, `notifications-${phone ? "phone" : "desktop"}`);
      if (!phone) {
        await page.locator(".notification-unread").first().getByRole("button", { name: /^Mark read/ }).click();
        await page.waitForURL(`${a.origin}/notifications`);
        expect(await link.textContent()).toBe(`Notifications ${unread - 1} unread`);
        await page.getByRole("link", { name: "Unread only" }).click();
        expect(await page.locator(".notification").count()).toBe(unread - 1);
      } else {
        await page.getByRole("button", { name: "Mark all read" }).click();
        await page.waitForURL(`${a.origin}/notifications`);
        expect(await link.textContent()).toBe("Notifications");
        expect(await page.getByRole("status").textContent()).toMatch(/^Marked \d+ read\.$/);
        await screenshot(page, "notifications-read-phone");
      }
      expect(errors).toEqual([]);
      await context.close();
    }
    const api = await a.api<{ marked: number; unread: number }>("POST", "notifications/read", { token: stella.token, body: {} });
    expect(api.status).toBe(400);
  });

  it("replies from the web to an annotation from another instance, whose author hears of it there", async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    await signIn(page, a.origin, "stella");
    // Where annotations show (policy and clause pages), each has a "Reply" link to this page.
    const fromBob = (await notificationsOf(a, stella, "annotation.replied")).find((n) => n.actor === b.actorUri("bob"))!;
    await page.goto(`${a.origin}/reply?to=${encodeURIComponent(fromBob.subject)}`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Reply to an annotation");
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByLabel("Your reply").fill("Warm it is.");
    await screenshot(page, "reply-desktop");
    await page.getByRole("button", { name: "Post reply" }).click();
    expect(await page.getByRole("status").textContent()).toBe("Your reply was added; its author is notified.");
    expect(errors).toEqual([]);
    await context.close();
    // The community re-shares the reply to its followers; B takes it and tells bob.
    const told = await waitFor(async () => (await notificationsOf(b, bob, "annotation.replied")).find((n) => n.text.includes("Warm it is.")), { what: "bob to hear of stella's reply" });
    expect(told.actor).toBe(a.actorUri("stella"));
  });
});

describe("the feed", () => {
  it("sorts by publication time: a version published earlier but received later sorts below, a future date cannot pin itself on top", async () => {
    await follow(b, bob, `@far@${c.host}`);
    const far = (await c.api<{ id: number; iri: string }>("POST", "policies", { token: carl.token, body: { community: "far", slug: "early", content: { ...CONTENT, title: "Far Policy" } } })).body;
    const t0 = clock.advance(30 * 60_000).getTime();
    // A publishes at t0; C, whose clock is an hour behind, publishes ten minutes later (dated t0 - 50 min).
    await a.api("PUT", `policies/${policy.id}/draft`, { token: stella.token, body: withTone("Be calm and steady.") });
    expect((await a.api("POST", `policies/${policy.id}/publish`, { token: stella.token, body: {} })).status).toBe(201);
    await quiet();
    clock.advance(10 * 60_000);
    clockC.set(new Date(t0 - 50 * 60_000));
    expect((await c.api("POST", `policies/${far.id}/publish`, { token: carl.token, body: {} })).status).toBe(201);
    const titles = async () => {
      const feed = await feedPage(b.instance.db, await readerScope(b.instance.db, b.origin, await getUserByUsername(b.instance.db, "bob")), { offset: 0, limit: 20 });
      return feed.items.filter((item) => item.kind === "version").map((item) => `${item.policyTitle} ${(item as { number: number }).number}`);
    };
    await waitFor(async () => (await titles()).includes("Far Policy 1"), { what: "B to receive C's version" });
    // By arrival C's version would be on top; by publication it comes after A's version 2 (published t0 - 30 min).
    expect((await titles()).slice(0, 3)).toEqual(["Ward Assistant Policy 3", "Ward Assistant Policy 2", "Far Policy 1"]);

    // C's clock jumps a day ahead: its next version sorts by when it arrived, and a newer one goes above it.
    clockC.set(new Date(t0 + 24 * HOUR));
    await c.api("PUT", `policies/${far.id}/draft`, { token: carl.token, body: { ...withTone("Be brief."), title: "Far Policy" } });
    expect((await c.api("POST", `policies/${far.id}/publish`, { token: carl.token, body: {} })).status).toBe(201);
    await waitFor(async () => (await titles()).includes("Far Policy 2"), { what: "B to receive C's future-dated version" });
    expect((await titles())[0]).toBe("Far Policy 2");
    clock.advance(10 * 60_000);
    await a.api("PUT", `policies/${policy.id}/draft`, { token: stella.token, body: withTone("Be calm, steady and kind.") });
    expect((await a.api("POST", `policies/${policy.id}/publish`, { token: stella.token, body: {} })).status).toBe(201);
    await waitFor(async () => (await titles()).includes("Ward Assistant Policy 4"), { what: "B to receive version 4" });
    expect((await titles()).slice(0, 3)).toEqual(["Ward Assistant Policy 4", "Far Policy 2", "Ward Assistant Policy 3"]);
  });
});
