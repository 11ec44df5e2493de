/**
 * Proposals, decision rules and statements end to end against an instance
 * in the test process (real HTTP, the CLI where it matters), with a clock
 * the test advances: proposals close when the scheduled job runs after the
 * clock passes their closing time, not after a sleep.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "@fedify/fedify";
import { generateKeyPairSync, webcrypto } from "node:crypto";
import { createServer, type Server } from "node:http";
import { changeSetFromContents } from "../src/policies/changeset.ts";
import { policyContentSchema } from "../src/policies/content.ts";
import { recordOffer } from "../src/policies/offers.ts";
import type { DecisionRulesView, ProposalView } from "../src/api/schemas/participation.ts";
import { fetchAp, freePort, runCli, waitFor } from "./harness.ts";
import { ManualClock, startLocalInstance, type LocalInstance } from "./local-instance.ts";

const LONDON = fileURLToPath(new URL("./fixtures/polis/london.youth.policing", import.meta.url));
const SEATTLE = fileURLToPath(new URL("./fixtures/polis/15-per-hour-seattle", import.meta.url));

const HOUR = 3_600_000;
const clock = new ManualClock();
let a: LocalInstance;
let work: string;
let steward: { token: string };
const members: { token: string }[] = [];
let outsider: { token: string };
let policyId: number;

const CONTENT = {
  title: "Youth Policing Assistant",
  licence: "CC-BY-4.0",
  clauses: [
    { id: "rights", authority: "root", text: "Explain people's rights during a stop and search." },
    { id: "tone", authority: "guideline", text: "Be respectful." },
  ],
};

async function wanted(edit: { id: string; text: string }) {
  const head = (await a.api<{ headVersion: number }>("GET", `policies/${policyId}`)).body.headVersion;
  const content = (await a.api<{ content: typeof CONTENT }>("GET", `policies/${policyId}/versions/${head}`)).body.content;
  return { base: content, wanted: { ...content, clauses: content.clauses.map((c) => (c.id === edit.id ? { ...c, text: edit.text } : c)) } };
}

/** Through the CLI, as a member runs it: the edited policy JSON and a closing time. */
async function proposeWithCli(edit: { id: string; text: string }, closeInMs: number, token = members[0]!.token): Promise<ProposalView> {
  const file = join(work, `proposal-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify((await wanted(edit)).wanted));
  const closeAt = new Date(clock.now().getTime() + closeInMs).toISOString();
  const result = await runCli(["--server", a.origin, "--token", token, "propose", String(policyId), "--changes", file, "--title", `Change ${edit.id}`, "--close-at", closeAt, "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as ProposalView;
}

/** Through the API (what the CLI sends). */
async function propose(edit: { id: string; text: string }, closeInMs: number | undefined, token = members[0]!.token) {
  const { base, wanted: after } = await wanted(edit);
  const changes = changeSetFromContents(policyContentSchema.parse(base), policyContentSchema.parse(after));
  const closesAt = closeInMs === undefined ? undefined : new Date(clock.now().getTime() + closeInMs).toISOString();
  return a.api<ProposalView & { detail?: string }>("POST", `policies/${policyId}/proposals`, { token, body: { title: `Change ${edit.id}`, changes, closesAt } });
}

async function opened(edit: { id: string; text: string }, closeInMs: number): Promise<ProposalView> {
  const created = await propose(edit, closeInMs);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

const vote = (proposal: ProposalView, token: string, value: string) =>
  a.api<ProposalView & { detail?: string }>("POST", `proposals/${proposal.id}/vote`, { token, body: { value } });

const listed = async (proposal: ProposalView) => (await a.api<ProposalView[]>("GET", `policies/${policyId}/proposals`)).body.find((p) => p.id === proposal.id)!;

/** Moves the clock past the proposal's close and runs the scheduled job, as the instance's timer would. */
async function closeAfterTime(proposal: ProposalView): Promise<ProposalView> {
  clock.set(new Date(Math.max(clock.now().getTime(), Date.parse(proposal.effectiveClosesAt)) + 1000));
  await a.instance.runScheduledJobs();
  const closed = await listed(proposal);
  expect(closed.state).not.toBe("open");
  return closed;
}

beforeAll(async () => {
  a = await startLocalInstance({ clock });
  work = mkdtempSync(join(tmpdir(), "fedalign-participation-"));
  const [stella, ...users] = await Promise.all(["stella", "m1", "m2", "m3", "m4", "m5"].map((name) => a.createUser(name)));
  steward = stella!;
  expect((await a.api("POST", "communities", { token: steward.token, body: { handle: "youth", name: "Youth panel" } })).status).toBe(201);
  for (const [i, user] of users.entries()) {
    await a.api("PUT", `communities/youth/members/m${i + 1}`, { token: steward.token, body: { role: "member" } });
    members.push(user!);
  }
  outsider = await a.createUser("outsider");
  // Six members (the steward and five). Rules short enough for a test.
  const rules = await a.api("PUT", "communities/youth/decision-rules", {
    token: steward.token,
    body: {
      rules: {
        root: { quorum: 0.5, threshold: "two-thirds", blocks: true, minOpenHours: 1 },
        guideline: { quorum: 0.5, threshold: "two-thirds", blocks: false, minOpenHours: 1 },
      },
      adoptMode: "publish",
    },
  });
  expect(rules.status, JSON.stringify(rules.body)).toBe(200);
  const created = await a.api<{ id: number }>("POST", "policies", { token: steward.token, body: { community: "youth", slug: "policing", content: CONTENT } });
  policyId = created.body.id;
  await a.api("POST", `policies/${policyId}/publish`, { token: steward.token, body: {} });
});

afterAll(async () => {
  await a?.destroy();
  rmSync(work, { recursive: true, force: true });
});

describe("decision rules", () => {
  it("rejects a proposal under quorum", async () => {
    const proposal = await proposeWithCli({ id: "tone", text: "Be respectful and plain." }, 2 * HOUR);
    expect((await vote(proposal, members[0]!.token, "yes")).status).toBe(200);
    const closed = await closeAfterTime(proposal);
    expect(closed.state).toBe("rejected");
    expect(closed.tally.reason).toMatch(/quorum not reached/);
  });

  it("adopts at exactly two-thirds, publishing a version whose provenance names the proposal and its tally", async () => {
    const proposal = await opened({ id: "tone", text: "Be respectful, plain and warm." }, 2 * HOUR);
    await vote(proposal, members[0]!.token, "yes");
    await vote(proposal, members[1]!.token, "yes");
    await vote(proposal, members[2]!.token, "no");
    const closed = await closeAfterTime(proposal);
    expect(closed.state, closed.tally.reason).toBe("adopted");
    expect(closed.resultVersion).toBeTruthy();
    const doc = await fetchAp<{ decisions: { proposal: string; tally: { state: string; counts: Record<string, number> } }[]; normativeContent: typeof CONTENT }>(closed.resultVersion!);
    expect(doc.decisions).toHaveLength(1);
    expect(doc.decisions[0]!.proposal).toBe(proposal.iri);
    expect(doc.decisions[0]!.tally.state).toBe("adopted");
    expect(doc.decisions[0]!.tally.counts).toMatchObject({ yes: 2, no: 1 });
    expect(doc.normativeContent.clauses.find((c) => c.id === "tone")!.text).toBe("Be respectful, plain and warm.");
  });

  it("lets one block stop a consensus proposal, and refuses votes after closing and from non-members", async () => {
    const proposal = await opened({ id: "rights", text: "Explain people's rights during a stop and search, and how to complain." }, 2 * HOUR);
    for (const member of members.slice(0, 4)) await vote(proposal, member.token, "yes");
    const blocked = await runCli(["--server", a.origin, "--token", members[4]!.token, "vote", String(proposal.id), "block"]);
    expect(blocked.code, blocked.stderr).toBe(0);
    const refused = await vote(proposal, outsider.token, "yes");
    expect(refused.status).toBe(403);
    const closed = await closeAfterTime(proposal);
    expect(closed.state).toBe("rejected");
    expect(closed.tally.reason).toMatch(/blocked by 1 member/);
    const late = await vote(proposal, members[0]!.token, "no");
    expect(late.status).toBe(409);
    expect(late.body.detail).toMatch(/closed/);
    const list = await runCli(["--server", a.origin, "proposals", String(policyId)]);
    expect(list.stdout).toMatch(/rejected/);
    // What followers (and Mastodon) see: a closed poll with the outcome.
    const article = await fetchAp<{ type: string; name: string; content: string; closed?: string }>(proposal.iri);
    expect(article.type).toBe("Question");
    expect(article.closed).toBeTruthy();
    expect(article.content).toMatch(/Rejected: blocked by 1 member/);
  });

  it("changes nothing when a proposal or its list is read after its closing time; the scheduled job closes it", async () => {
    const proposal = await opened({ id: "tone", text: "Be respectful and brief." }, 2 * HOUR);
    await vote(proposal, members[0]!.token, "yes");
    clock.advance(3 * HOUR);
    const policyBefore = (await a.api<{ headVersion: number }>("GET", `policies/${policyId}`)).body.headVersion;
    // Reading, repeatedly, through the API and the web page.
    expect((await a.api<ProposalView>("GET", `proposals/${proposal.id}`)).body.state).toBe("open");
    expect((await listed(proposal)).state).toBe("open");
    expect((await fetch(`${a.origin}/proposals/${proposal.id}`)).status).toBe(200);
    expect((await fetch(`${a.origin}/policies/${policyId}/proposals`)).status).toBe(200);
    expect((await listed(proposal)).state).toBe("open");
    expect((await a.api<{ headVersion: number }>("GET", `policies/${policyId}`)).body.headVersion).toBe(policyBefore);
    // A vote after the closing time is refused even before the job has run.
    expect((await vote(proposal, members[1]!.token, "yes")).status).toBe(409);
    await a.instance.runScheduledJobs();
    expect((await listed(proposal)).state).toBe("rejected");
  });

  it("refuses a minimum open time of 0 where the rules are set, and a past closing time in words a web page can show", async () => {
    const zero = await a.api<{ detail: string }>("PUT", "communities/youth/decision-rules", {
      token: steward.token,
      body: { rules: { guideline: { minOpenHours: 0 } } },
    });
    expect(zero.status).toBe(400);
    expect(zero.body.detail).toMatch(/minOpenHours: must be more than 0 hours/);
    const rules = await a.api<DecisionRulesView>("GET", "communities/youth/decision-rules");
    expect(rules.body.effective.guideline!.minOpenHours).toBe(1); // unchanged
    // With no closing time, a proposal stays open the rule's minimum.
    const open = await propose({ id: "tone", text: "Be respectful, always." }, undefined);
    expect(open.status, JSON.stringify(open.body)).toBe(201);
    expect(Date.parse(open.body.closesAt) - clock.now().getTime()).toBe(HOUR);
    const past = await propose({ id: "tone", text: "Be respectful, mostly." }, -HOUR);
    expect(past.status).toBe(400);
    expect(past.body.detail).toMatch(/^The closing time must be in the future/);
    expect(past.body.detail).not.toMatch(/--/);
    clock.advance(2 * HOUR);
    await a.instance.runScheduledJobs();
  });
});

describe("a proposal's discussion", () => {
  it("is a thread of comments on the proposal itself", async () => {
    const proposal = await opened({ id: "tone", text: "Be respectful and kind." }, 2 * HOUR);
    const commented = await runCli(["--server", a.origin, "--token", members[1]!.token, "annotate", proposal.iri, "--motivation", "question", "--text", "Does kind mean informal?"]);
    expect(commented.code, commented.stderr).toBe(0);
    const thread = await a.api<{ motivation: string; text: string; clause: string | null }[]>("GET", `annotations?target=${encodeURIComponent(proposal.iri)}`);
    expect(thread.body.map((x) => [x.motivation, x.text, x.clause])).toEqual([["question", "Does kind mean informal?", null]]);
    const outsiderNote = await a.api("POST", "annotations", { token: outsider.token, body: { target: proposal.iri, motivation: "suggest-edit", text: "x" } });
    expect(outsiderNote.status).toBe(400);
  });
});

describe("statements and opinions", () => {
  it("imports the London Polis export, finds stable opinion groups, and round-trips through export", async () => {
    const imported = await runCli(["--server", a.origin, "--token", steward.token, "statements", "import-polis", "youth", LONDON]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/Imported 39 statements and 638 votes/);

    const first = await a.api<{ k: number; groups: { size: number }[]; consensus: unknown[]; bridging: unknown[] }>("GET", "opinions?community=youth");
    const second = await a.api<typeof first.body>("GET", "opinions?community=youth");
    expect(second.body).toEqual(first.body);
    expect(first.body.groups.reduce((sum, g) => sum + g.size, 0)).toBe(24);
    expect(first.body.k).toBe(3); // the group count the export's summary.csv reports
    expect(first.body.consensus.length).toBeGreaterThan(0);
    expect(first.body.bridging.length).toBeGreaterThan(0);
    const byPolicy = await runCli(["--server", a.origin, "opinions", String(policyId)]);
    expect(byPolicy.code, byPolicy.stderr).toBe(0);
    expect(byPolicy.stdout).toMatch(/24 participants in 3 opinion groups/);

    const out = join(work, "export");
    const exported = await runCli(["--server", a.origin, "--token", steward.token, "statements", "export-polis", "youth", out]);
    expect(exported.code, exported.stderr).toBe(0);
    // Re-import into a second community and compare the vote matrices.
    expect((await a.api("POST", "communities", { token: steward.token, body: { handle: "youth2", name: "Youth panel 2" } })).status).toBe(201);
    const again = await runCli(["--server", a.origin, "--token", steward.token, "statements", "import-polis", "youth2", out]);
    expect(again.stdout).toMatch(/Imported 39 statements and 638 votes/);
    const matrix = async (community: string) => {
      const data = (await a.api<{ votes: { participant: string; statement: string; value: number }[] }>("GET", `statements/export?community=${community}`, { token: steward.token })).body;
      return data.votes.map((v) => `${v.participant}/${v.statement}/${v.value}`).sort();
    };
    expect(await matrix("youth2")).toEqual(await matrix("youth"));
  });

  it("keeps a second conversation apart, reports a bad row by id and line, and --strict refuses the file", async () => {
    const cli = (...args: string[]) => runCli(["--server", a.origin, "--token", steward.token, ...args]);
    const seattle = await cli("statements", "import-polis", "youth", SEATTLE);
    expect(seattle.code, seattle.stderr).toBe(0);
    expect(seattle.stdout).toMatch(/Imported 54 statements and 2872 votes into the new conversation "15-per-hour-seattle"/);
    const again = await cli("statements", "import-polis", "youth", SEATTLE);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already has a conversation named "15-per-hour-seattle"/);
    const listed = await a.api<{ conversation: string }[]>("GET", "statements?community=youth&across=true", { token: steward.token });
    expect(listed.body).toHaveLength(93);
    const ambiguous = await a.api<{ detail: string }>("GET", "opinions?community=youth");
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.detail).toMatch(/name one \(conversation\), or ask for all of them \(across\)/);
    const london = await runCli(["--server", a.origin, "opinions", "youth", "--conversation", "london.youth.policing"]);
    expect(london.stdout).toMatch(/24 participants in 3 opinion groups/);

    // A copy of London whose comment 12 has an empty body.
    const bad = join(work, "bad-london");
    cpSync(LONDON, bad, { recursive: true });
    const lines = readFileSync(join(bad, "comments.csv"), "utf8").split("\n");
    const at = lines.findIndex((l) => /^\d+,[^,]*,12,/.test(l));
    lines[at] = lines[at]!.replace(/,[^,]*$/, ',""');
    writeFileSync(join(bad, "comments.csv"), lines.join("\n"));
    const strict = await cli("statements", "import-polis", "youth", bad, "--conversation", "strict", "--strict");
    expect(strict.code).not.toBe(0);
    expect(strict.stderr).toContain(`comments.csv:${at + 1} (comment 12): empty comment-body`);
    expect((await a.api<unknown[]>("GET", "conversations?community=youth")).body).toHaveLength(2);
    const lenient = await cli("statements", "import-polis", "youth", bad, "--conversation", "lenient");
    expect(lenient.code, lenient.stderr).toBe(0);
    expect(lenient.stdout).toMatch(/Imported 38 statements/);
    expect(lenient.stdout).toContain(`comments.csv:${at + 1} (comment 12): empty comment-body`);
    expect(lenient.stdout).toMatch(/votes\.csv:\d+ \(voter \d+\): unknown comment 12/);
  });
});

interface PollDocument {
  type: string;
  id: string;
  name: string;
  content: string;
  closed?: string;
  votersCount: number;
  oneOf: { name: string; replies: { totalItems: number } }[];
}

/**
 * A Mastodon-like account on its own server: an actor with a key, and an
 * inbox that records what is delivered to it (signatures are checked by
 * the sender's side when it fetches our key; we only record).
 */
async function startFollowerServer() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const actor = `${base}/users/maya`;
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const key = await webcrypto.subtle.importKey("pkcs8", privateKey.export({ type: "pkcs8", format: "der" }), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["sign"]);
  const received: { type: string; object?: unknown; signed: boolean }[] = [];
  const server: Server = createServer((req, res) => {
    if (req.method === "POST" && req.url === "/users/maya/inbox") {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        const activity = JSON.parse(body) as { type: string; object?: unknown };
        received.push({ ...activity, signed: typeof req.headers.signature === "string" || typeof req.headers["signature-input"] === "string" });
        res.writeHead(202).end();
      });
      return;
    }
    const doc =
      req.url === "/users/maya"
        ? { "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"], id: actor, type: "Person", preferredUsername: "maya", inbox: `${actor}/inbox`, publicKey: { id: `${actor}#main-key`, owner: actor, publicKeyPem: pem } }
        : undefined;
    res.writeHead(doc ? 200 : 404, { "Content-Type": "application/activity+json" });
    res.end(doc ? JSON.stringify(doc) : "");
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const follow = async (target: string) => {
    const activity = JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams", id: `${actor}#follows/${Date.now()}`, type: "Follow", actor, object: target });
    const request = new Request(`${a.origin}/inbox`, { method: "POST", headers: { "Content-Type": "application/activity+json" }, body: activity });
    return (await fetch(await signRequest(request, key, new URL(`${actor}#main-key`)))).status;
  };
  return { actor, received, follow, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("what followers see of a proposal", () => {
  it("a Mastodon follower gets the proposal as a poll, and its final tally when it closes", async () => {
    const follower = await startFollowerServer();
    try {
      expect(await follower.follow(a.actorUri("youth"))).toBe(202);
      await waitFor(() => follower.received.some((x) => x.type === "Accept"), { what: "the follow to be accepted" });

      const proposal = await proposeWithCli({ id: "tone", text: "Be respectful and patient." }, 2 * HOUR);
      await a.flushOutbox();
      const created = await waitFor(
        () => follower.received.find((x) => x.type === "Create" && (x.object as PollDocument | undefined)?.id === proposal.iri),
        { what: "the proposal to reach the follower" },
      );
      expect(created.signed).toBe(true);
      const poll = created.object as PollDocument;
      expect(poll.type).toBe("Question");
      expect(poll.name).toBe("Change tone");
      expect(poll.oneOf.map((o) => o.name)).toEqual(["yes", "no", "abstain", "block"]);
      expect(poll.content).toContain("Voting closes");

      await vote(proposal, members[0]!.token, "yes");
      await vote(proposal, members[1]!.token, "yes");
      await vote(proposal, members[2]!.token, "yes");
      await vote(proposal, members[3]!.token, "no");
      // The served poll shows the running count while it is open.
      const open = await fetchAp<PollDocument>(proposal.iri);
      expect(open.votersCount).toBe(4);
      expect(Object.fromEntries(open.oneOf.map((o) => [o.name, o.replies.totalItems]))).toEqual({ yes: 3, no: 1, abstain: 0, block: 0 });

      const closed = await closeAfterTime(proposal);
      expect(closed.state).toBe("adopted");
      await a.flushOutbox();
      const update = await waitFor(
        () => follower.received.find((x) => x.type === "Update" && (x.object as PollDocument | undefined)?.id === proposal.iri),
        { what: "the closed poll to reach the follower" },
      );
      const final = update.object as PollDocument;
      expect(final.closed).toBeTruthy();
      expect(final.votersCount).toBe(4);
      expect(Object.fromEntries(final.oneOf.map((o) => [o.name, o.replies.totalItems]))).toEqual({ yes: 3, no: 1, abstain: 0, block: 0 });
      expect(final.content).toMatch(/Adopted/);

      // An offer accepted as a proposal federates like any proposal: followers get the poll, the offerer the Accept.
      const { base, wanted: after } = await wanted({ id: "tone", text: "Be respectful, patient and clear." });
      const offerIri = `${follower.actor}/offers/1`;
      await recordOffer(a.instance.db, {
        iri: offerIri,
        direction: "incoming",
        targetIri: (await a.api<{ iri: string }>("GET", `policies/${policyId}`)).body.iri,
        originIri: `${follower.actor}/policies/fork`,
        actorIri: follower.actor,
        changes: changeSetFromContents(policyContentSchema.parse(base), policyContentSchema.parse(after)),
        message: "Clearer tone",
      });
      const accepted = await a.api<{ state: string }>("POST", "offers/accept", { token: steward.token, body: { offer: offerIri, asProposal: true } });
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
      expect(accepted.body.state).toBe("accepted");
      await a.flushOutbox();
      const fromOffer = await waitFor(
        () => follower.received.find((x) => x.type === "Create" && (x.object as PollDocument | undefined)?.name === "Offer: Clearer tone"),
        { what: "the offer's proposal to reach the follower" },
      );
      expect((fromOffer.object as PollDocument).type).toBe("Question");
      await waitFor(() => follower.received.some((x) => x.type === "Accept" && x.object === offerIri), { what: "the offerer to hear the offer was accepted" });
      clock.advance(48 * HOUR);
      await a.instance.runScheduledJobs();
    } finally {
      await follower.close();
    }
  });
});
