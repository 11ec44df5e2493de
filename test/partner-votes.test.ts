/**
 * Votes from members of partner instances: B's member answers A's proposal
 * the way Mastodon answers a poll; A counts it only once B is a partner.
 * Both instances run in the test process (real HTTP and signatures).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchAp, runCli, waitFor } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

let a: LocalInstance;
let b: LocalInstance;
let alice: { token: string };
let bob: { token: string };
let proposalIri: string;
let proposalId: number;
let policyId: number;

interface ProposalView {
  id: number;
  iri: string;
  tally: { counts: Record<string, number>; voters: number; members: number };
}

beforeAll(async () => {
  [a, b] = await Promise.all([startLocalInstance(), startLocalInstance()]);
  [alice, bob] = await Promise.all([a.createUser("alice"), b.createUser("bob")]);
  expect((await a.api("POST", "communities", { token: alice.token, body: { handle: "youth", name: "Youth" } })).status).toBe(201);
  const created = await a.api<{ id: number }>("POST", "policies", {
    token: alice.token,
    body: { community: "youth", slug: "p", content: { title: "P", licence: "CC0-1.0", clauses: [{ id: "tone", authority: "guideline", text: "Be kind." }] } },
  });
  policyId = created.body.id;
  const head = await a.api<{ contentHash: string }>("POST", `policies/${policyId}/publish`, { token: alice.token, body: {} });
  const changes = {
    base: { contentHash: head.body.contentHash },
    operations: [
      {
        op: "edit",
        id: "tone",
        before: { id: "tone", title: "", section: null, authority: "guideline", text: "Be kind.", rationale: "", context: {}, examples: [], tags: [] },
        after: { id: "tone", title: "", section: null, authority: "guideline", text: "Be kind and brief.", rationale: "", context: {}, examples: [], tags: [] },
      },
    ],
  };
  const proposal = await a.api<ProposalView>("POST", `policies/${policyId}/proposals`, { token: alice.token, body: { title: "Brevity", changes } });
  expect(proposal.status, JSON.stringify(proposal.body)).toBe(201);
  proposalIri = proposal.body.iri;
  proposalId = proposal.body.id;
});

afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy()]);
});

const tallyAtA = async () => (await a.api<ProposalView[]>("GET", `policies/${policyId}/proposals`)).body.find((p) => p.id === proposalId)!.tally;

describe("partner votes", () => {
  it("publishes the proposal as a poll Mastodon can answer", async () => {
    const doc = await fetchAp<{ type: string; oneOf: { name: string }[]; endTime: string }>(proposalIri);
    expect(doc.type).toBe("Question");
    expect(doc.oneOf.map((o) => o.name)).toEqual(["yes", "no", "abstain", "block"]);
  });

  it("refuses a vote from an instance that is not a partner", async () => {
    const sent = await runCli(["--server", b.origin, "--token", bob.token, "vote", proposalIri, "yes"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect((await tallyAtA()).voters).toBe(0);
    // A says why, and bob sees it on B: in the API, the CLI and his feed.
    const refused = await waitFor(
      async () => (await b.api<{ state: string; reason: string }[]>("GET", `proposals/remote-votes?proposal=${encodeURIComponent(proposalIri)}`, { token: bob.token })).body.find((v) => v.state === "refused"),
      { what: "B to receive A's Reject" },
    );
    expect((await tallyAtA()).voters).toBe(0);
    expect(refused.reason).toMatch(/Vote not counted: .* is not a partner instance/);
    const listed = await runCli(["--server", b.origin, "--token", bob.token, "votes", proposalIri]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/yes\s+.*REFUSED: Vote not counted: .*is not a partner instance/);
  });

  it("counts a partner member's signed vote, which they can change", async () => {
    const partners = await a.api("PUT", "communities/youth/decision-rules", { token: alice.token, body: { partners: [b.host] } });
    expect(partners.status).toBe(200);
    await runCli(["--server", b.origin, "--token", bob.token, "vote", proposalIri, "no"]);
    await waitFor(async () => (await tallyAtA()).counts.no === 1, { what: "A to count the partner's vote" });
    await runCli(["--server", b.origin, "--token", bob.token, "vote", proposalIri, "yes"]);
    await waitFor(async () => (await tallyAtA()).counts.yes === 1, { what: "A to count the changed vote" });
    const tally = await tallyAtA();
    expect(tally).toMatchObject({ voters: 1, members: 2 });
    expect(tally.counts.no).toBe(0);
  });
});
