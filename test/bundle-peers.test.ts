/**
 * Pulling a bundle from origins that are not Fedalign (no Fedify inside):
 * a strict peer that serves a correctly signed policy and dataset, whose
 * bundle verifies offline; and hostile peers whose dataset pages were
 * changed after signing, signed by another key, loop, or point to another
 * origin. Every refusal leaves no bundle behind.
 */
import { webcrypto } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageItemsHash } from "../src/bundles/derive.ts";
import { pullBundle } from "../src/bundles/pull.ts";
import { verifyBundle } from "../src/bundles/verify.ts";
import { parsePolicyContent } from "../src/policies/content.ts";
import { contentHash } from "../src/policies/hash.ts";
import { multibaseFromPublicKey, signDocument } from "../src/policies/proof.ts";
import type { PreferenceRecord } from "../src/preferences/record.ts";
import { PeerServer } from "./peers/peer-server.ts";

let peer: PeerServer;
let other: PeerServer;
let work: string;
let communityKeys: CryptoKeyPair;
let strangerKeys: CryptoKeyPair;

const community = () => peer.url("/actors/c");
const keyId = () => `${community()}#multikey-1`;
const policy = (slug: string) => peer.url(`/actors/c/policies/${slug}`);
const CREATED = new Date("2025-03-01T00:00:00Z");

function record(n: number): PreferenceRecord {
  return {
    prompt: [{ role: "user", content: `Question ${n}?` }],
    responses: [{ content: `Careful answer ${n}.` }, { content: `Careless answer ${n}.` }],
    choice: 0,
    ratings: null,
    rationale: "",
    clauseIds: [],
    policyVersion: null,
    raterId: "import:trl:peer.jsonl",
    groups: [],
    createdAt: "2025-03-01T00:00:00Z",
    consent: { train: true, federate: true, breakdown: false },
    source: { name: "trl:peer.jsonl", licence: "CC0-1.0", line: n },
  };
}

/** A policy at `slug` with one version and `pages` dataset pages of two records each; `tamper` may spoil page k after signing. */
async function servePolicy(slug: string, pages: number, tamper?: (page: Record<string, unknown>, k: number) => Promise<Record<string, unknown>> | Record<string, unknown>): Promise<string> {
  const parsed = parsePolicyContent({ title: `Peer policy ${slug}`, licence: "CC0-1.0", clauses: [{ id: "care", authority: "root", text: "Take care." }] });
  if (!parsed.ok) throw new Error("bad content");
  const version = `${policy(slug)}/versions/1`;
  const document = await signDocument(
    {
      "@context": ["https://www.w3.org/ns/activitystreams", { fedalign: "https://fedalign.org/ns#" }],
      id: version,
      type: ["Article", "PolicyVersion"],
      attributedTo: community(),
      published: "2025-03-01T00:00:00Z",
      policy: policy(slug),
      versionNumber: 1,
      licence: "CC0-1.0",
      contentHash: contentHash(parsed.content),
      normativeContent: parsed.content,
    },
    { privateKey: communityKeys.privateKey, verificationMethod: keyId(), created: CREATED },
  );
  peer.serveJson(new URL(version).pathname, document);
  const dataset = `${policy(slug)}/preferences`;
  peer.serveJson(new URL(dataset).pathname, { id: dataset, type: "OrderedCollection", first: `${dataset}?after=0` });
  for (let k = 0; k < pages; k++) {
    const items = [1, 2].map((i) => ({ id: `${dataset}/${2 * k + i}`, type: "PreferenceRecord", preference: record(2 * k + i) }));
    const next = k + 1 < pages ? { next: `${dataset}?after=${2 * k + 2}` } : {};
    let page: Record<string, unknown> = await signDocument(
      { id: `${dataset}?after=${2 * k}`, type: "OrderedCollectionPage", partOf: dataset, attributedTo: community(), orderedItems: items, contentHash: pageItemsHash(items), ...next },
      { privateKey: communityKeys.privateKey, verificationMethod: keyId(), created: CREATED },
    );
    if (tamper) page = await tamper(page, k);
    peer.serveJson(`${new URL(dataset).pathname}?after=${2 * k}`, page);
  }
  return version;
}

function resign(page: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { proof: _proof, ...unsigned } = page;
  return signDocument(unsigned, { privateKey: communityKeys.privateKey, verificationMethod: keyId(), created: CREATED });
}

beforeAll(async () => {
  [peer, other] = await Promise.all([new PeerServer().start(), new PeerServer().start()]);
  work = mkdtempSync(join(tmpdir(), "fedalign-bundle-peers-"));
  communityKeys = (await webcrypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
  strangerKeys = (await webcrypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
  peer.serveJson("/actors/c", {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/multikey/v1"],
    id: community(),
    type: "Group",
    preferredUsername: "c",
    inbox: `${community()}/inbox`,
    assertionMethod: [{ id: keyId(), type: "Multikey", controller: community(), publicKeyMultibase: await multibaseFromPublicKey(communityKeys.publicKey) }],
  });
});

afterAll(async () => {
  await Promise.all([peer?.stop(), other?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe("pulling from a strict peer without Fedify", () => {
  it("writes a bundle whose pages and files verify offline, byte-identical on a second pull", async () => {
    const version = await servePolicy("good", 3);
    const out = join(work, "good");
    const result = await pullBundle({ sources: [version], withPreferences: true, out });
    expect(result.manifest.counts).toMatchObject({ preferenceRecords: 6, preferencePairs: 6, flawedRecords: 0 });
    expect(result.manifest.datasets).toEqual([{ source: 1, policy: policy("good"), file: "preferences/1.jsonl", pages: 3, records: 6 }]);
    const report = await verifyBundle(out);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    const again = await pullBundle({ sources: [version], withPreferences: true, out: join(work, "good-again") });
    expect(again.manifest).toEqual(result.manifest);
  });
});

describe("pulling from hostile peers", () => {
  const refused: [string, (page: Record<string, unknown>, k: number) => Promise<Record<string, unknown>> | Record<string, unknown>, RegExp][] = [
    [
      "a record's consent changed after signing",
      (page, k) => {
        if (k !== 1) return page;
        const items = structuredClone(page.orderedItems) as { preference: PreferenceRecord }[];
        items[0]!.preference.consent.federate = false;
        items[0]!.preference.source!.licence = "CC-BY-4.0";
        return { ...page, orderedItems: items };
      },
      /items do not match its hash/,
    ],
    [
      "a page signed by a key the community does not publish",
      async (page, k) => {
        if (k !== 2) return page;
        const { proof: _proof, ...unsigned } = page;
        return signDocument(unsigned, { privateKey: strangerKeys.privateKey, verificationMethod: keyId(), created: CREATED });
      },
      /proof does not verify/,
    ],
    // The community itself misbehaving: these pages are signed with its own key.
    ["pages that loop", (page, k) => (k === 1 ? resign({ ...page, next: String(page.id).replace(/after=\d+$/, "after=0") }) : page), /the pages loop/],
    ["a page on another origin", (page, k) => (k === 0 ? resign({ ...page, next: other.url("/actors/c/policies/x/preferences?after=2") }) : page), /on another server/],
  ];

  for (const [name, tamper, error] of refused) {
    it(`refuses ${name}, and leaves no bundle`, async () => {
      const slug = name.replace(/\W+/g, "-");
      const version = await servePolicy(slug, 3, tamper);
      const out = join(work, slug);
      await expect(pullBundle({ sources: [version], withPreferences: true, out })).rejects.toThrow(error);
      expect(existsSync(out)).toBe(false);
    });
  }

  it("never fetches a page from another origin", () => {
    expect(other.received()).toEqual([]);
  });
});
