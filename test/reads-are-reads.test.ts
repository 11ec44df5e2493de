/**
 * Reads are reads: no GET of the JSON API or of a web page changes the
 * database, even where the old code did its pending work on the way (a
 * proposal whose voting time is over was closed, published and announced by
 * whoever read it first). Here the clock is moved past a proposal's close,
 * every GET route of the OpenAPI document and every page reachable by links
 * is read, signed out and signed in, and the database is compared whole;
 * then the scheduled job closes the proposal, which is what changes it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changeSetFromContents } from "../src/policies/changeset.ts";
import { policyContentSchema } from "../src/policies/content.ts";
import { snapshot } from "./db-snapshot.ts";
import { ManualClock, startLocalInstance, type LocalInstance } from "./local-instance.ts";

const CONTENT = {
  title: "Youth Policing Assistant",
  licence: "CC-BY-4.0",
  clauses: [
    { id: "rights", authority: "root", text: "Explain people's rights during a stop and search." },
    { id: "tone", authority: "guideline", text: "Be respectful." },
  ],
};

let a: LocalInstance;
const clock = new ManualClock(new Date("2026-06-01T09:00:00Z"));
let steward: { token: string };
let policyId: number;
let proposalId: number;
const ids: Record<string, string> = {};

async function ok<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
  const response = await a.api<T>(method, path, { token, body });
  expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBeLessThan(300);
  return response.body;
}

/** Signs in through the web form and returns the session cookie. */
async function webSession(username: string): Promise<string> {
  const login = await fetch(`${a.origin}/login`);
  const csrfCookie = (login.headers.getSetCookie().find((c) => c.startsWith("fedalign_csrf=")) ?? "").split(";")[0]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(await login.text())?.[1] ?? "";
  const response = await fetch(`${a.origin}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: csrfCookie },
    body: new URLSearchParams({ username, password: "correct horse battery staple", csrf }),
  });
  expect(response.status).toBe(303);
  const session = response.headers.getSetCookie().find((c) => c.startsWith("fedalign_session="));
  expect(session).toBeTruthy();
  return session!.split(";")[0]!;
}

/** GETs every same-origin page reachable by links from the start pages; returns what was read. */
async function crawl(start: string[], cookie?: string, limit = 250): Promise<string[]> {
  const seen = new Set<string>();
  const queue = [...start];
  while (queue.length > 0 && seen.size < limit) {
    const path = queue.shift()!;
    if (seen.has(path)) continue;
    seen.add(path);
    const response = await fetch(`${a.origin}${path}`, { headers: cookie ? { Cookie: cookie } : {}, redirect: "manual" });
    const type = response.headers.get("content-type") ?? "";
    if (!type.includes("text/html")) {
      await response.arrayBuffer();
      continue;
    }
    for (const match of (await response.text()).matchAll(/href="([^"#]+)/g)) {
      const href = match[1]!.replaceAll("&amp;", "&");
      if (!href.startsWith("/") || href.startsWith("//") || href.startsWith("/api/")) continue;
      if (!seen.has(href)) queue.push(href);
    }
  }
  return [...seen];
}

beforeAll(async () => {
  a = await startLocalInstance({ clock });
  steward = await a.createUser("stella", { admin: true });
  const member = await a.createUser("m1");
  await ok("POST", "communities", steward.token, { handle: "youth", name: "Youth panel" });
  await ok("PUT", "communities/youth/members/m1", steward.token, { role: "member" });
  await ok("PUT", "communities/youth/decision-rules", steward.token, {
    rules: { guideline: { quorum: 0.1, threshold: "majority", blocks: false, minOpenHours: 1 } },
    adoptMode: "publish",
  });
  policyId = (await ok<{ id: number }>("POST", "policies", steward.token, { community: "youth", slug: "policing", content: CONTENT })).id;
  await ok("POST", `policies/${policyId}/publish`, steward.token, {});
  const proposal = await ok<{ id: number }>("POST", `policies/${policyId}/proposals`, member.token, {
    title: "Warmer",
    changes: changeSetFromContents(
      policyContentSchema.parse(CONTENT),
      policyContentSchema.parse({ ...CONTENT, clauses: [CONTENT.clauses[0], { ...CONTENT.clauses[1], text: "Be respectful and warm." }] }),
    ),
    closesAt: new Date(clock.now().getTime() + 2 * 3_600_000).toISOString(),
  });
  proposalId = proposal.id;
  await ok("POST", `proposals/${proposalId}/vote`, member.token, { value: "yes" });
  await a.flushOutbox();
  Object.assign(ids, { id: String(policyId), handle: "youth", username: "m1", number: "1", clauseId: "tone" });
  // Voting time is over; nothing has closed the proposal yet.
  clock.advanceHours(3);
});

afterAll(async () => {
  await a?.destroy();
});

describe("reads are reads", () => {
  it("no GET of the JSON API changes the database, signed out or in", async () => {
    const before = snapshot(a);
    const doc = await (await fetch(`${a.origin}/api/v1/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
    const paths = Object.entries(doc.paths).filter(([, ops]) => "get" in ops).map(([path]) => path);
    expect(paths.length).toBeGreaterThan(20);
    for (const path of paths) {
      const concrete = path.replace(/\{(\w+)\}/g, (_, name: string) => {
        if (path.startsWith("/proposals/") && name === "id") return String(proposalId);
        return ids[name] ?? "1";
      });
      for (const token of [undefined, steward.token]) await a.api("GET", concrete, { token });
    }
    expect(snapshot(a)).toEqual(before);
  });

  it("no web page read by following links changes the database, signed out or in", async () => {
    const cookie = await webSession("stella");
    const before = snapshot(a);
    const start = ["/", `/proposals/${proposalId}`, "/actors/youth", "/feed", "/follow", "/settings"];
    const anonymous = await crawl(start);
    const signedIn = await crawl(start, cookie);
    expect(anonymous.length).toBeGreaterThan(5);
    expect(signedIn.length).toBeGreaterThan(5);
    expect(signedIn).toContain(`/proposals/${proposalId}`);
    expect(snapshot(a)).toEqual(before);
  });

  it("the scheduled job, not a reader, closes the proposal once its time is over", async () => {
    const read = await a.api<{ state: string }>("GET", `proposals/${proposalId}`);
    expect(read.body.state).toBe("open");
    await a.instance.runScheduledJobs();
    await a.flushOutbox();
    const closed = await a.api<{ state: string; resultVersion: string | null }>("GET", `proposals/${proposalId}`);
    expect(closed.body.state).toBe("adopted");
    expect(closed.body.resultVersion).toMatch(/\/versions\/2$/);
  });
});
