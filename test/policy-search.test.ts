/**
 * Searching clauses: the index follows publication and retraction in the
 * same transaction, a title match ranks above a passing mention, matched
 * words come back marked (and escaped), hostile queries are plain words,
 * and a database from before the index is indexed at start. Over HTTP: the
 * search pages answer every hostile query with a page, never a 500.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../db/client.ts";
import { createUser, type User } from "../src/accounts/users.ts";
import { retractPolicyVersion, publishVersion, createCommunityPolicy } from "../src/app/policies.ts";
import { searchPolicies } from "../src/app/search.ts";
import { createCommunity } from "../src/communities.ts";
import { openInstance, type Instance } from "../src/instance.ts";
import { policyContentSchema, type PolicyContent } from "../src/policies/content.ts";
import { getPolicyById, saveDraft } from "../src/policies/policies.ts";
import { ensureSearchIndex, MARK_END, MARK_START, queryTerms, reindexPolicy, searchClauses } from "../src/policies/search.ts";
import { markedHtml } from "../src/web/reading-components.tsx";
import { markTermsInHtml } from "../src/web/policy-components.tsx";

let dir: string;
let instance: Instance;
let db: Db;
let steward: User;
let policyId: number;

const content = (extra: string): PolicyContent =>
  policyContentSchema.parse({
    title: "Garden rules",
    summary: "How the assistant talks about gardens.",
    licence: "CC-BY-4.0",
    clauses: [
      { id: "watering", title: "Watering", authority: "guideline", text: "Water the roses at dawn; mention watering only when asked." },
      { id: "privacy", title: "Protect gardeners' privacy", authority: "root", text: "Never reveal where a gardener lives." },
      {
        id: "tools",
        title: "Tools",
        authority: "user",
        text: `Recommend safe tools. ${extra}`,
        examples: [{ title: "Shears", prompt: [{ role: "user", content: "Which compost <b>bin</b> keeps privacy from neighbours?" }], responses: [] }],
      },
    ],
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "fedalign-search-"));
  instance = await openInstance({ dataDir: dir, origin: "http://127.0.0.1:9", allowPrivateAddress: true });
  db = instance.db;
  steward = await createUser(db, { username: "stella", password: "correct horse battery staple" });
  await createCommunity(db, { handle: "garden", name: "Garden", steward });
  policyId = (await createCommunityPolicy(instance.context, steward, { community: "garden", content: content("") })).id;
});

afterAll(async () => {
  await instance?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const search = async (q: string, policy?: number) => await searchPolicies(instance.context, { q, ...(policy ? { policy } : {}) });

describe("the clause index", () => {
  it("holds nothing before publication and the newest version after, in the publishing transaction", async () => {
    expect((await search("roses")).total).toBe(0);
    await publishVersion(instance.context, steward, policyId, { message: "First." });
    expect((await search("roses")).hits.map((hit) => hit.clauseId)).toEqual(["watering"]);
    await saveDraft(db, await getPolicyById(db, policyId), content("Sharpen secateurs before pruning."));
    await publishVersion(instance.context, steward, policyId, { message: "Second." });
    const hit = (await search("secateurs")).hits[0]!;
    expect([hit.clauseId, hit.versionNumber]).toEqual(["tools", 2]);
    // Retracting version 2 puts version 1 back in the index.
    await retractPolicyVersion(instance.context, steward, policyId, 2);
    expect((await search("secateurs")).total).toBe(0);
    expect((await search("roses")).hits[0]!.versionNumber).toBe(1);
  });

  it("ranks a match in the title above one in the text, and one in the text above one in the examples", async () => {
    const { hits } = await search("privacy");
    expect(hits.map((hit) => hit.clauseId)).toEqual(["privacy", "tools"]);
    expect(hits[1]!.inExamples).toBe(true);
  });

  it("marks the matched words, and escapes everything else", async () => {
    const [title] = (await search("privacy")).hits;
    expect(title!.title).toBe(`Protect gardeners' ${MARK_START}privacy${MARK_END}`);
    const inExamples = (await search("privacy")).hits[1]!;
    const html = markedHtml(inExamples.snippet);
    expect(html).toContain("<mark>privacy</mark>");
    expect(html).not.toContain("<b>");
    // Stemming: "watered" finds "watering"; all words are required.
    expect((await search("watered roses")).hits.map((hit) => hit.clauseId)).toEqual(["watering"]);
    expect((await search("roses secateurs")).total).toBe(0);
  });

  it("turns hostile queries into plain words or nothing", async () => {
    for (const q of ['"', "*", "NEAR(", "NEAR(roses dawn, 2)", "roses OR", "-roses", "^roses", "roses:", "{title}: x", "'", "\\", "((((", "a".repeat(600)]) {
      await expect(search(q)).resolves.toBeDefined();
    }
    expect(queryTerms('NEAR(roses "at dawn" OR *')).toEqual(["near", "roses", "at dawn", "or"]);
    expect((await search('"at dawn"')).hits.map((hit) => hit.clauseId)).toEqual(["watering"]);
    expect((await search("*")).total).toBe(0);
  });

  it("marks search words in rendered HTML without touching tags or entities", () => {
    const html = '<p>Privacy &amp; <a href="/privacy">private gardens</a> <code>amp</code></p>';
    expect(markTermsInHtml(html, ["privacy", "amp"])).toBe('<p><mark>Privacy</mark> &amp; <a href="/privacy">private gardens</a> <code><mark>amp</mark></code></p>');
  });

  it("is rebuilt at start for versions stored before it existed", async () => {
    await db.run(sql`DELETE FROM clause_search`);
    await db.run(sql`DELETE FROM settings WHERE key = 'clause_search_version'`);
    expect((await searchClauses(db, ["roses"], { limit: 10 })).total).toBe(0);
    await ensureSearchIndex(db);
    expect((await searchClauses(db, ["roses"], { limit: 10 })).total).toBe(1);
    await reindexPolicy(db, policyId);
    expect((await searchClauses(db, ["roses"], { limit: 10, policyId })).total).toBe(1);
  });
});

describe("the search pages", () => {
  const get = async (path: string) => {
    const response = await instance.app.fetch(new Request(`http://127.0.0.1:9${path}`));
    return { status: response.status, html: await response.text() };
  };

  it("answer hostile queries with a page, in a policy and across the instance", async () => {
    for (const q of ['"', "*", "NEAR(", "roses OR", "<script>alert(1)</script>", "%", "a".repeat(600)]) {
      for (const path of [`/search?q=${encodeURIComponent(q)}`, `/policies/${policyId}/search?q=${encodeURIComponent(q)}`]) {
        const { status, html } = await get(path);
        expect([200, 400], `${path} answered ${status}`).toContain(status);
        expect(html).not.toContain("<script>alert(1)</script>");
      }
    }
  });

  it("link each result to its clause page, with the words marked there too", async () => {
    const { html } = await get(`/search?q=roses`);
    expect(html).toContain(`href="/policies/${policyId}/clauses/watering?q=roses"`);
    expect(html).toContain("<mark>roses</mark>");
    const clause = await get(`/policies/${policyId}/clauses/watering?q=roses`);
    expect(clause.status).toBe(200);
    expect(clause.html).toContain("<mark>roses</mark>");
    expect((await get(`/policies/999/search?q=roses`)).status).toBe(404);
  });
});
