/**
 * A policy's preference dataset across two real instances: only records
 * whose raters allow federation leave A; B mirrors them (checking each
 * page's hash and proof); a rater's later narrowing reaches B. Both
 * instances run in the test process (./local-instance.ts), so B's refusal
 * is read from the log records of this process.
 */
import { signRequest } from "@fedify/fedify";
import { configureSync, resetSync, type LogRecord } from "@logtape/logtape";
import { generateKeyPairSync, webcrypto } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { multibaseFromPublicKey, signDocument } from "../src/policies/proof.ts";
import type { ImportReport, MirroredRecords } from "../src/api/schemas/preferences.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { fetchAp, freePort, waitFor } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

let a: LocalInstance;
let b: LocalInstance;
/** What this process logged under "fedalign" (both instances). */
const logged: string[] = [];
let alice: { token: string };
let bob: { token: string };
let policyId: number;
let policyIri: string;
let work: string;

const mirrored = async () =>
  (await b.api<MirroredRecords>("GET", `preferences/mirrored?policy=${encodeURIComponent(policyIri)}`)).body;

const trl = (n: number) => JSON.stringify({ prompt: `Shared question ${n}?`, chosen: `Helpful answer ${n}.`, rejected: `Unhelpful answer ${n}.` });

beforeAll(async () => {
  configureSync({
    reset: true,
    sinks: { memory: (record: LogRecord) => void logged.push(record.message.map(String).join("")) },
    loggers: [
      { category: ["fedalign"], lowestLevel: "info", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  [a, b] = await Promise.all([startLocalInstance(), startLocalInstance()]);
  [alice, bob] = await Promise.all([a.createUser("alice"), b.createUser("bob")]);
  await createCommunity(a.instance.db, { handle: "hh", name: "HH", steward: await getUserByUsername(a.instance.db, "alice") });
  const created = await a.api<{ id: number; iri: string }>("POST", "policies", {
    token: alice.token,
    body: {
      community: "hh",
      slug: "care",
      content: {
        title: "Care",
        licence: "CC0-1.0",
        clauses: [
          {
            id: "kind",
            authority: "user",
            text: "Be kind.",
            examples: [{ prompt: [{ role: "user", content: "Federation test prompt: am I doing well?" }], responses: [{ content: "You are doing your best.", label: "good" }, { content: "No.", label: "bad" }] }],
          },
        ],
      },
    },
  });
  policyId = created.body.id;
  policyIri = created.body.iri;
  await a.api("POST", `policies/${policyId}/publish`, { token: alice.token, body: {} });
  work = mkdtempSync(join(tmpdir(), "fedalign-pref-fed-"));
  writeFileSync(join(work, "shared.trl.jsonl"), [trl(1), trl(2), trl(3)].join("\n"));
  writeFileSync(join(work, "private.trl.jsonl"), JSON.stringify({ prompt: "Private question?", chosen: "Private yes.", rejected: "Private no." }));
  // The steward's imports, the file as the request body (the CLI's import is tested in preferences.test.ts).
  const importFile = async (file: string, consent: string) => {
    const params = new URLSearchParams({ community: "hh", format: "trl", policy: String(policyId), consent, source: file });
    const response = await fetch(`${a.origin}/api/v1/preferences/import?${params}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${alice.token}`, "Content-Type": "application/octet-stream" },
      body: readFileSync(join(work, file)),
    });
    return (await response.json()) as ImportReport;
  };
  expect(await importFile("shared.trl.jsonl", "train,federate")).toMatchObject({ imported: 3 });
  expect(await importFile("private.trl.jsonl", "train")).toMatchObject({ imported: 1 });
});

afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy()]);
  resetSync();
  rmSync(work, { recursive: true, force: true });
});

describe("a policy's preference dataset", () => {
  it("publishes only records whose raters allow federation, on signed pages", async () => {
    const collection = await fetchAp<{ totalItems: number; first: string }>(`${policyIri}/preferences`);
    expect(collection.totalItems).toBe(3);
    const page = await fetchAp<{ orderedItems: { preference: { prompt: { content: string }[] } }[]; contentHash: string; proof: { cryptosuite: string } }>(collection.first);
    expect(page.orderedItems).toHaveLength(3);
    expect(page.proof.cryptosuite).toBe("eddsa-jcs-2022");
    expect(JSON.stringify(page)).not.toContain("Private question");
  });

  it("is mirrored by a follower of the policy, without the private record", async () => {
    expect((await b.api("POST", "follows", { token: bob.token, body: { target: policyIri } })).status).toBe(202);
    const held = await waitFor(async () => {
      const m = await mirrored();
      return m.count === 3 ? m : undefined;
    }, { what: "B to mirror the dataset" });
    expect(held.records.every((r) => r.consent?.train)).toBe(true);
  });

  it("follows a member's answer in, and their withdrawal out", async () => {
    const member = await a.createUser("mia");
    await a.api("PUT", "communities/hh/members/mia", { token: alice.token, body: { role: "member" } });
    const version = (await a.api<{ versions: { iri: string }[] }>("GET", `policies/${policyId}`)).body.versions[0]!.iri;
    const tasks = await a.api<{ created: { id: number }[] }>("POST", "tasks", { token: alice.token, body: { community: "hh", fromVersion: version } });
    const answered = await a.api("POST", `tasks/${tasks.body.created[0]!.id}/answer`, { token: member.token, body: { choice: 0, consent: { train: true, federate: true, breakdown: false } } });
    expect(answered.status).toBe(200);
    await waitFor(async () => (await mirrored()).count === 4, { what: "B to receive the answer" });

    const mine = (await a.api<{ id: number }[]>("GET", "preferences/mine", { token: member.token })).body;
    const narrowed = await a.api("PATCH", `preferences/${mine[0]!.id}/consent`, { token: member.token, body: { train: true, federate: false, breakdown: false } });
    expect(narrowed.status).toBe(200);
    await waitFor(async () => (await mirrored()).count === 3, { what: "B to drop the withdrawn record" });
    expect((await fetchAp<{ totalItems: number }>(`${policyIri}/preferences`)).totalItems).toBe(3);
  });
});

describe("a dataset page that does not check out", () => {
  it("is refused, and the mirror keeps nothing of it", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const actor = `${base}/actors/forgers`;
    const policy = `${actor}/policies/fake`;
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const ed = (await webcrypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
    const multikey = `${actor}#multikey-2`;
    const items = [{ id: `${policy}/preferences/1`, type: "PreferenceRecord", preference: { prompt: [{ role: "user", content: "q" }], responses: [{ content: "a" }, { content: "b" }], choice: 0, consent: { train: true, federate: true, breakdown: false } } }];
    const signed = await signDocument(
      { "@context": "https://www.w3.org/ns/activitystreams", id: `${policy}/preferences?after=0`, type: "OrderedCollectionPage", partOf: `${policy}/preferences`, attributedTo: actor, orderedItems: items, contentHash: "sha256:" + "0".repeat(64) },
      { privateKey: ed.privateKey, verificationMethod: multikey },
    );
    const documents: Record<string, unknown> = {
      "/actors/forgers": {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1", "https://w3id.org/security/multikey/v1"],
        id: actor, type: "Group", preferredUsername: "forgers", inbox: `${actor}/inbox`,
        publicKey: { id: `${actor}#main-key`, owner: actor, publicKeyPem: rsa.publicKey.export({ type: "spki", format: "pem" }).toString() },
        assertionMethod: [{ id: multikey, type: "Multikey", controller: actor, publicKeyMultibase: await multibaseFromPublicKey(ed.publicKey) }],
      },
      "/actors/forgers/policies/fake": { "@context": "https://www.w3.org/ns/activitystreams", id: policy, type: ["Document", "Policy"], attributedTo: actor, name: "Fake" },
      "/actors/forgers/policies/fake/preferences": { "@context": "https://www.w3.org/ns/activitystreams", id: `${policy}/preferences`, type: "OrderedCollection", attributedTo: actor, totalItems: 1, first: `${policy}/preferences?after=0` },
      // Signed, but its items do not match the hash it claims.
      "/actors/forgers/policies/fake/preferences?after=0": signed,
    };
    const server = createServer((req, res) => {
      if (req.method === "POST") {
        res.writeHead(202).end();
        return;
      }
      const body = documents[req.url ?? ""];
      res.writeHead(body ? 200 : 404, { "Content-Type": "application/activity+json" }).end(body ? JSON.stringify(body) : "");
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    try {
      // B follows the fake policy (so it knows it), then the fake community announces a change.
      expect((await b.api("POST", "follows", { token: bob.token, body: { target: policy } })).status).toBe(202);
      const key = await webcrypto.subtle.importKey("pkcs8", rsa.privateKey.export({ type: "pkcs8", format: "der" }), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["sign"]);
      const update = JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams", id: `${actor}#update-1`, type: "Update", actor, object: { id: `${policy}/preferences`, type: "OrderedCollection" } });
      const request = new Request(`${b.origin}/inbox`, { method: "POST", headers: { "Content-Type": "application/activity+json" }, body: update });
      expect((await fetch(await signRequest(request, key, new URL(`${actor}#main-key`)))).status).toBe(202);
      const refusal = await waitFor(() => logged.find((line) => line.includes("Refused the preference dataset") && line.includes(policy)), {
        what: "B to refuse the page",
      });
      expect(refusal).toMatch(/items do not match its hash/);
      const held = await b.api<{ count: number }>("GET", `preferences/mirrored?policy=${encodeURIComponent(policy)}`);
      expect(held.body.count).toBe(0);
    } finally {
      server.close();
    }
  });
});
