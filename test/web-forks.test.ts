/**
 * Forks, upstream merges and offers in a real browser across two real
 * instances: B's steward forks A's policy, both sides change clause x, B's
 * steward sees the conflict side by side, resolves it with an edited text
 * and merges; then offers the change upstream, and A's steward accepts it
 * under /offers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, newContext, screenshot, signIn, watchPageErrors } from "./browser.ts";
import { waitFor, type FollowView } from "./harness.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

interface Clause {
  id: string;
  authority: string;
  text: string;
}
interface Content {
  title: string;
  licence: string;
  clauses: Clause[];
}
interface PolicyDetail {
  id: number;
  iri: string;
  versions: { iri: string; number: number }[];
}

const CONTENT: Content = {
  title: "Community Care Policy",
  licence: "CC-BY-4.0",
  clauses: [
    { id: "x", authority: "root", text: "Refer urgent cases to a human clinician." },
    { id: "y", authority: "user", text: "Answer in the language the patient writes in." },
    { id: "z", authority: "guideline", text: "Keep answers short." },
  ],
};
const withClause = (content: Content, id: string, text: string): Content => ({
  ...content,
  clauses: content.clauses.map((clause) => (clause.id === id ? { ...clause, text } : clause)),
});
const RESOLVED = "Refer urgent cases to the on-call nurse or emergency services.";

let a: LocalInstance;
let b: LocalInstance;
let browser: Browser;
let alice: { token: string };
let bob: { token: string };
let upstreamId: number;
let mirrorId: number;
let forkId: number;

async function draftOf(instance: LocalInstance, token: string, id: number): Promise<Content> {
  return (await instance.api<Content>("GET", `policies/${id}/draft`, { token })).body;
}

async function signedIn(instance: LocalInstance, username: string): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const context = await newContext(browser);
  const page = await context.newPage();
  const errors = watchPageErrors(page);
  await signIn(page, instance.origin, username);
  return { page, errors, close: () => context.close() };
}

beforeAll(async () => {
  [a, b, browser] = await Promise.all([startLocalInstance(), startLocalInstance(), launchBrowser()]);
  [alice, bob] = await Promise.all([a.createUser("alice"), b.createUser("bob")]);
  await createCommunity(a.instance.db, { handle: "nurses", name: "Nurses", steward: await getUserByUsername(a.instance.db, "alice") });
  await createCommunity(b.instance.db, { handle: "clinic", name: "Clinic", steward: await getUserByUsername(b.instance.db, "bob") });
  const created = await a.api<PolicyDetail>("POST", "policies", { token: alice.token, body: { community: "nurses", slug: "care", content: CONTENT } });
  expect(created.status).toBe(201);
  upstreamId = created.body.id;
  // B follows the policy before v1, so v1 reaches it.
  expect((await b.api("POST", "follows", { token: bob.token, body: { target: created.body.iri } })).status).toBe(202);
  await waitFor(async () => (await b.api<FollowView[]>("GET", "follows", { token: bob.token })).body[0]?.state === "accepted", { what: "B's follow to be accepted" });
  expect((await a.api("POST", `policies/${upstreamId}/publish`, { token: alice.token, body: {} })).status).toBe(201);
  mirrorId = await waitFor(
    async () => {
      const found = await b.api<{ id: number }>("GET", `policies/lookup?ref=${encodeURIComponent(created.body.iri)}`);
      if (found.status !== 200) return undefined;
      const detail = await b.api<PolicyDetail>("GET", `policies/${found.body.id}`);
      return detail.body.versions.length === 1 ? found.body.id : undefined;
    },
    { what: "B to hold v1" },
  );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all([a?.destroy(), b?.destroy()]);
});

describe("forks in the browser", () => {
  it("forks A's policy into B's community and lands on the fork", async () => {
    const { page, errors, close } = await signedIn(b, "bob");
    await page.goto(`${b.origin}/policies/${mirrorId}/fork`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Fork “Community Care Policy”");
    // A bad slug is refused beside the field, by the API's rule.
    await page.getByLabel("Slug").fill("Not A Slug");
    await page.getByRole("button", { name: "Fork policy" }).click();
    expect(await page.locator("#slug-error").textContent()).toContain("may contain only lower-case letters, digits and hyphens");
    expect(await page.getByLabel("Slug").getAttribute("aria-invalid")).toBe("true");
    await page.getByLabel("Into community").selectOption("clinic");
    await page.getByLabel("Slug").fill("care-fork");
    await screenshot(page, "forks-fork");
    await page.getByRole("button", { name: "Fork policy" }).click();
    await page.waitForURL(/\/policies\/\d+$/);
    forkId = Number(new URL(page.url()).pathname.split("/").pop());
    const fork = (await b.api<PolicyDetail & { upstream: string }>("GET", `policies/${forkId}`)).body;
    expect(fork.iri).toMatch(/\/actors\/clinic\/policies\/care-fork$/);
    expect(fork.upstream).toMatch(/\/actors\/nurses\/policies\/care$/);
    expect(errors).toEqual([]);
    await close();
  });

  it("shows the conflict side by side and merges the resolution into the draft", async () => {
    // B edits x and publishes; A edits x and y differently and publishes v2.
    await b.api("PUT", `policies/${forkId}/draft`, { token: bob.token, body: withClause(CONTENT, "x", "Refer urgent cases to the on-call nurse.") });
    expect((await b.api("POST", `policies/${forkId}/publish`, { token: bob.token, body: {} })).status).toBe(201);
    const aDraft = withClause(withClause(CONTENT, "y", "Answer in the patient's language."), "x", "Refer urgent cases to emergency services.");
    await a.api("PUT", `policies/${upstreamId}/draft`, { token: alice.token, body: aDraft });
    expect((await a.api("POST", `policies/${upstreamId}/publish`, { token: alice.token, body: {} })).status).toBe(201);
    await waitFor(async () => (await b.api<{ head: { number: number } | null }>("GET", `policies/${forkId}/upstream`)).body.head?.number === 2, {
      what: "B to receive upstream v2",
    });

    const { page, errors, close } = await signedIn(b, "bob");
    await page.goto(`${b.origin}/policies/${forkId}/merge`);
    expect(await page.getByRole("status").textContent()).toContain("1 version behind: upstream is at version 2.");
    // y merges cleanly and is shown with its word diff.
    expect(await page.locator("ul.merge-clean").textContent()).toContain("Edited y");
    expect(await page.locator("ul.merge-clean del").first().textContent()).toBeTruthy();
    // x is a conflict: base, ours and theirs side by side.
    const conflict = page.locator("section.merge-conflict");
    expect(await conflict.count()).toBe(1);
    expect(await conflict.locator("h3").textContent()).toContain("Clause x");
    expect(await conflict.locator(".merge-base").textContent()).toContain("Refer urgent cases to a human clinician.");
    expect(await conflict.locator(".merge-ours").textContent()).toContain("Refer urgent cases to the on-call nurse.");
    expect(await conflict.locator(".merge-theirs").textContent()).toContain("Refer urgent cases to emergency services.");
    expect(await conflict.locator(".merge-theirs ins").allTextContents()).toContain("emergency");

    // Merging without a decision is refused next to the conflict.
    await page.getByRole("button", { name: "Merge into draft" }).click();
    expect(await page.locator("section.merge-conflict .field-error").textContent()).toBe("Choose ours, theirs or an edited text.");

    await page.getByLabel("Edited text (below)").check();
    await page.getByLabel("Edited text of Clause x").fill(RESOLVED);
    await screenshot(page, "forks-merge");
    await page.getByRole("button", { name: "Merge into draft" }).click();
    await page.waitForURL(new RegExp(`/policies/${forkId}/draft$`));
    const draft = await draftOf(b, bob.token, forkId);
    expect(draft.clauses.find((c) => c.id === "x")!.text).toBe(RESOLVED);
    expect(draft.clauses.find((c) => c.id === "y")!.text).toBe("Answer in the patient's language.");
    expect(errors).toEqual([]);
    await close();
  });

  it("offers the change upstream, where A's steward sees it under /offers and accepts it", async () => {
    expect((await b.api("POST", `policies/${forkId}/publish`, { token: bob.token, body: {} })).status).toBe(201);
    const bobSession = await signedIn(b, "bob");
    const page = bobSession.page;
    await page.goto(`${b.origin}/policies/${forkId}/offers/new`);
    expect(await page.getByRole("checkbox", { name: "Offer x" }).isChecked()).toBe(true);
    expect(await page.locator(".clause-changed").textContent()).toContain("on-call nurse or");
    await page.getByLabel("Summary").fill("Name who handles urgent cases.");
    await page.getByRole("button", { name: "Send offer upstream" }).click();
    await page.waitForURL(`${b.origin}/offers`);
    expect(await page.getByRole("status").textContent()).toBe("Offered your changes upstream.");
    expect(await page.locator("article.offer").textContent()).toContain("pending");

    const aliceSession = await signedIn(a, "alice");
    const upstreamPage = aliceSession.page;
    await waitFor(
      async () => {
        await upstreamPage.goto(`${a.origin}/offers`);
        return (await upstreamPage.locator("article.offer").count()) === 1;
      },
      { what: "A to receive the offer" },
    );
    const offer = upstreamPage.locator("article.offer");
    expect(await offer.textContent()).toContain("Name who handles urgent cases.");
    expect(await offer.locator("ins").allTextContents()).toEqual(["the on-call nurse or "]);
    await screenshot(upstreamPage, "forks-offers");
    await upstreamPage.getByRole("button", { name: "Accept into draft" }).click();
    await upstreamPage.waitForURL(`${a.origin}/offers`);
    expect(await upstreamPage.getByRole("status").textContent()).toBe("Accepted the offer; its changes are in the draft.");
    expect(await upstreamPage.locator("article.offer").textContent()).toContain("accepted");
    expect((await draftOf(a, alice.token, upstreamId)).clauses.find((c) => c.id === "x")!.text).toBe(RESOLVED);

    // B sees the decision on its outgoing offer.
    await waitFor(
      async () => {
        await page.goto(`${b.origin}/offers`);
        return (await page.locator("article.offer").textContent())?.includes("accepted");
      },
      { what: "B to learn the offer was accepted" },
    );
    expect([...bobSession.errors, ...aliceSession.errors]).toEqual([]);
    await Promise.all([bobSession.close(), aliceSession.close()]);
  });
});
