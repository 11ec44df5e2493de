/**
 * Proposals, decision rules and statements end to end against a running
 * instance, through the CLI and the API.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "@fedify/fedify";
import { generateKeyPairSync, webcrypto } from "node:crypto";
import { createServer, type Server } from "node:http";
import { fetchAp, freePort, runCli, startInstance, waitFor, type TestInstance } from "./harness.ts";

const LONDON = fileURLToPath(new URL("./fixtures/polis/london.youth.policing", import.meta.url));
const SEATTLE = fileURLToPath(new URL("./fixtures/polis/15-per-hour-seattle", import.meta.url));

let a: TestInstance;
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

interface ProposalView {
  id: number;
  iri: string;
  state: string;
  description: string;
  tally: { state: string; reason: string; counts: Record<string, number> };
  resultVersion: string | null;
}

async function propose(edit: { id: string; text: string }, closeInMs: number, token = members[0]!.token): Promise<ProposalView> {
  const head = (await a.api<{ headVersion: number }>("GET", `policies/${policyId}`)).body.headVersion;
  const content = (await a.api<{ content: typeof CONTENT }>("GET", `policies/${policyId}/versions/${head}`)).body.content;
  const wanted = { ...content, clauses: content.clauses.map((c) => (c.id === edit.id ? { ...c, text: edit.text } : c)) };
  const file = join(work, `proposal-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(wanted));
  const result = await runCli(["--server", a.origin, "--token", token, "propose", String(policyId), "--changes", file, "--title", `Change ${edit.id}`, "--close-at", new Date(Date.now() + closeInMs).toISOString(), "--json"]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as ProposalView;
}

const vote = (proposal: ProposalView, token: string, value: string) =>
  a.api<ProposalView & { detail?: string }>("POST", `proposals/${proposal.id}/vote`, { token, body: { value } });

async function settled(proposal: ProposalView): Promise<ProposalView> {
  return waitFor(async () => {
    const list = await a.api<ProposalView[]>("GET", `policies/${policyId}/proposals`);
    const found = list.body.find((p) => p.id === proposal.id);
    return found && found.state !== "open" ? found : undefined;
  }, { what: `proposal ${proposal.id} to close`, timeoutMs: 40_000, intervalMs: 300 });
}

beforeAll(async () => {
  a = await startInstance();
  work = mkdtempSync(join(tmpdir(), "fedalign-participation-"));
  const [stella, ...users] = await Promise.all(["stella", "m1", "m2", "m3", "m4", "m5"].map((name) => a.createUser(name)));
  steward = stella!;
  await a.cli(["admin", "community", "create", "youth", "--name", "Youth panel", "--steward", "stella", "--data", a.dataDir]);
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
        root: { quorum: 0.5, threshold: "two-thirds", blocks: true, minOpenHours: 0 },
        guideline: { quorum: 0.5, threshold: "two-thirds", blocks: false, minOpenHours: 0 },
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
    const proposal = await propose({ id: "tone", text: "Be respectful and plain." }, 15_000);
    expect((await vote(proposal, members[0]!.token, "yes")).status).toBe(200);
    const closed = await settled(proposal);
    expect(closed.state).toBe("rejected");
    expect(closed.tally.reason).toMatch(/quorum not reached/);
  });

  it("adopts at exactly two-thirds, publishing a version whose provenance names the proposal and its tally", async () => {
    const proposal = await propose({ id: "tone", text: "Be respectful, plain and warm." }, 15_000);
    await vote(proposal, members[0]!.token, "yes");
    await vote(proposal, members[1]!.token, "yes");
    await vote(proposal, members[2]!.token, "no");
    const closed = await settled(proposal);
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
    // Closing times leave room for slow CLI runs on a loaded two-core machine.
    const proposal = await propose({ id: "rights", text: "Explain people's rights during a stop and search, and how to complain." }, 20_000);
    for (const member of members.slice(0, 4)) await vote(proposal, member.token, "yes");
    const blocked = await runCli(["--server", a.origin, "--token", members[4]!.token, "vote", String(proposal.id), "block"]);
    expect(blocked.code, blocked.stderr).toBe(0);
    const refused = await vote(proposal, outsider.token, "yes");
    expect(refused.status).toBe(403);
    const closed = await settled(proposal);
    expect(closed.state).toBe("rejected");
    expect(closed.tally.reason).toMatch(/blocked by 1 member/);
    const late = await vote(proposal, members[0]!.token, "no");
    expect(late.status).toBe(409);
    expect(late.body.detail).toMatch(/closed/);
    const listed = await runCli(["--server", a.origin, "proposals", String(policyId)]);
    expect(listed.stdout).toMatch(/rejected/);
    // What followers (and Mastodon) see: a closed poll with the outcome.
    const article = await fetchAp<{ type: string; name: string; content: string; closed?: string }>(proposal.iri);
    expect(article.type).toBe("Question");
    expect(article.closed).toBeTruthy();
    expect(article.content).toMatch(/Rejected: blocked by 1 member/);
  });
});

describe("a proposal's discussion", () => {
  it("is a thread of comments on the proposal itself", async () => {
    const proposal = await propose({ id: "tone", text: "Be respectful and kind." }, 60_000);
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
    await a.cli(["admin", "community", "create", "youth2", "--name", "Youth panel 2", "--steward", "stella", "--data", a.dataDir]);
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

      const proposal = await propose({ id: "tone", text: "Be respectful and patient." }, 12_000);
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

      const closed = await settled(proposal);
      expect(closed.state).toBe("adopted");
      const update = await waitFor(
        () => follower.received.find((x) => x.type === "Update" && (x.object as PollDocument | undefined)?.id === proposal.iri),
        { what: "the closed poll to reach the follower" },
      );
      const final = update.object as PollDocument;
      expect(final.closed).toBeTruthy();
      expect(final.votersCount).toBe(4);
      expect(Object.fromEntries(final.oneOf.map((o) => [o.name, o.replies.totalItems]))).toEqual({ yes: 3, no: 1, abstain: 0, block: 0 });
      expect(final.content).toMatch(/Adopted/);
    } finally {
      await follower.close();
    }
  });
});
