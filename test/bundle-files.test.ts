import { webcrypto } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, contentHash } from "../src/policies/hash.ts";
import { parsePolicyContent } from "../src/policies/content.ts";
import { multibaseFromPublicKey, signDocument } from "../src/policies/proof.ts";
import type { PreferenceRecord } from "../src/preferences/record.ts";
import { listFiles, writeBundle, type BundleInput, type BundleManifest } from "../src/bundles/bundle.ts";
import { pageItemsHash } from "../src/bundles/derive.ts";
import { verifyBundle, type VerifyReport } from "../src/bundles/verify.ts";

const COMMUNITY = "https://a.example/communities/gardeners";
const KEY_ID = `${COMMUNITY}#ed25519-key`;
const VERSION = "https://a.example/policies/p1/versions/1";
const POLICY = "https://a.example/policies/p1";
const DATASET = `${POLICY}/preferences`;
const VERSION2 = "https://a.example/policies/p2/versions/1";
const EXPORTER_KEY_ID = "https://fedalign.example/actor#main-key";

let work: string;
let communityKeys: CryptoKeyPair;
let exporterKeys: CryptoKeyPair;
let otherKeys: CryptoKeyPair;
let communityMultibase: string;
let signedVersion: Record<string, unknown>;
let signedVersion2: Record<string, unknown>;
let defaultPages: Record<string, unknown>[];

/** The community's dataset pages of `list`, signed as an instance serves them (ids chain through `next`). */
async function signPages(list: PreferenceRecord[], size = 100, key: CryptoKey = communityKeys.privateKey): Promise<Record<string, unknown>[]> {
  const pages: Record<string, unknown>[] = [];
  for (let start = 0; start === 0 || start < list.length; start += size) {
    const items = list.slice(start, start + size).map((r, i) => ({ id: `${DATASET}/${start + i + 1}`, type: "PreferenceRecord", preference: r }));
    const next = start + size < list.length ? { next: `${DATASET}?after=${start + size}` } : {};
    const page = { id: `${DATASET}?after=${start}`, type: "OrderedCollectionPage", partOf: DATASET, attributedTo: COMMUNITY, orderedItems: items, contentHash: pageItemsHash(items), ...next };
    pages.push(await signDocument(page, { privateKey: key, verificationMethod: KEY_ID, created: new Date("2025-01-02T03:04:05Z") }));
  }
  return pages;
}

function pagesOf(pages: Record<string, unknown>[]): BundleInput["pages"] {
  return (n) =>
    (async function* () {
      if (n === 1) yield* pages;
    })();
}

async function ed25519(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
}

function record(overrides: Partial<PreferenceRecord> & { tag: string }): PreferenceRecord {
  const { tag, ...rest } = overrides;
  return {
    prompt: [{ role: "user", content: `prompt ${tag}` }],
    responses: [{ content: `good ${tag}` }, { content: `bad ${tag}` }],
    choice: 0,
    ratings: null,
    rationale: "secret rationale",
    clauseIds: [],
    policyVersion: VERSION,
    raterId: "rater-7f3a",
    groups: ["group-x"],
    createdAt: "2025-01-02T03:04:05Z",
    consent: { train: true, federate: true, breakdown: false },
    source: null,
    ...rest,
  };
}

function records(): PreferenceRecord[] {
  return [
    record({ tag: "one" }),
    record({ tag: "three", responses: [{ content: "a3" }, { content: "b3" }, { content: "c3" }], choice: 2, source: { name: "trl", licence: "CC-BY-4.0" } }),
    record({ tag: "noconsent", consent: { train: false, federate: true, breakdown: true } }),
    record({ tag: "tied", choice: null, ratings: { scale: { min: 1, max: 5 }, values: [3, 3] } }),
  ];
}

function input(overrides: Partial<BundleInput> = {}): BundleInput {
  return {
    sources: [VERSION],
    versions: [{ document: signedVersion, communityKey: { id: KEY_ID, publicKeyMultibase: communityMultibase } }],
    contexts: ["domain=gardening"],
    pages: pagesOf(defaultPages),
    decisions: [{ clause: "kind", from: VERSION }],
    title: "Gardening bundle",
    ...overrides,
  };
}

async function tempDir(name: string): Promise<string> {
  return mkdtemp(join(work, `${name}-`));
}

function failed(report: VerifyReport): VerifyReport["checks"] {
  return report.checks.filter((c) => !c.ok);
}

async function readManifest(dir: string): Promise<BundleManifest> {
  return JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as BundleManifest;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "fedalign-bundle-"));
  communityKeys = await ed25519();
  exporterKeys = await ed25519();
  otherKeys = await ed25519();
  communityMultibase = await multibaseFromPublicKey(communityKeys.publicKey);
  const parsed = parsePolicyContent({
    title: "Gardening",
    licence: "CC-BY-4.0",
    clauses: [{ id: "kind", authority: "user", text: "Be kind to plants." }],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const unsigned = {
    "@context": ["https://www.w3.org/ns/activitystreams", { fedalign: "https://fedalign.org/ns#" }],
    id: VERSION,
    type: ["Article", "PolicyVersion"],
    attributedTo: COMMUNITY,
    published: "2025-01-02T03:04:05.000Z",
    policy: POLICY,
    versionNumber: 1,
    licence: "CC-BY-4.0",
    contentHash: contentHash(parsed.content),
    normativeContent: parsed.content,
  };
  signedVersion = await signDocument(unsigned, { privateKey: communityKeys.privateKey, verificationMethod: KEY_ID, created: new Date("2025-01-02T03:04:05Z") });
  const other = parsePolicyContent({ title: "Gardening too", licence: "MIT OR Apache-2.0", clauses: [{ id: "kind", authority: "user", text: "Be kind to plants." }] });
  if (!other.ok) throw new Error(JSON.stringify(other.issues));
  signedVersion2 = await signDocument(
    { ...unsigned, id: VERSION2, policy: "https://a.example/policies/p2", licence: "MIT OR Apache-2.0", contentHash: contentHash(other.content), normativeContent: other.content },
    { privateKey: communityKeys.privateKey, verificationMethod: KEY_ID, created: new Date("2025-01-02T03:04:05Z") },
  );
  defaultPages = await signPages(records());
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("writeBundle", () => {
  it("writes every file, listed with hashes, and verifies offline with the embedded key", async () => {
    const dir = await tempDir("ok");
    const manifest = await writeBundle(dir, input());
    expect(await listFiles(dir)).toEqual([
      "README.md",
      "manifest.json",
      "policy.md",
      "preferences.openai.jsonl",
      "preferences.provenance.jsonl",
      "preferences.trl.jsonl",
      "preferences/1.jsonl",
      "principles.json",
      "sources/1.json",
      "system-prompt.txt",
    ]);
    expect(Object.keys(manifest.files).sort()).toEqual((await listFiles(dir)).filter((f) => f !== "manifest.json"));
    expect(await readFile(join(dir, "manifest.json"), "utf8")).toBe(`${canonicalJson(manifest)}\n`);
    expect(manifest.counts).toEqual({
      sources: 1,
      clauses: 1,
      preferenceRecords: 2,
      policyExampleRecords: 0,
      preferencePairs: 3,
      skippedWithoutTrainConsent: 1,
      recordsWithoutPairs: 1,
      flawedRecords: 0,
    });
    expect(manifest.datasets).toEqual([{ source: 1, policy: POLICY, file: "preferences/1.jsonl", pages: 1, records: 4 }]);
    expect(manifest.licences).toEqual(["CC-BY-4.0"]);
    expect(manifest.preferenceLicences).toEqual(["CC-BY-4.0"]);
    expect(manifest.sources[0]).toMatchObject({ iri: VERSION, file: "sources/1.json", proof: signedVersion.proof, communityKey: { id: KEY_ID } });
    expect(JSON.parse(await readFile(join(dir, "sources/1.json"), "utf8"))).toEqual(signedVersion);
    expect(JSON.parse(await readFile(join(dir, "principles.json"), "utf8"))).toEqual([
      {
        id: "kind",
        authority: "user",
        title: "",
        principle: "Choose the response that best follows the principle Be kind to plants.",
        critique: "Identify specific ways in which the assistant's last response does not follow [kind]. Be kind to plants.",
        revision: "Rewrite the assistant's last response so that it follows [kind], changing only what the critique found.",
        source: POLICY,
      },
    ]);
    expect(await readFile(join(dir, "preferences/1.jsonl"), "utf8")).toBe(`${JSON.stringify(defaultPages[0])}\n`);

    const report = await verifyBundle(dir);
    expect(failed(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.what === "source proof")?.detail).toContain("embedded key");
  });

  it("leaves out records without train consent and writes the JSONL shapes", async () => {
    const dir = await tempDir("jsonl");
    await writeBundle(dir, input());
    const trlText = await readFile(join(dir, "preferences.trl.jsonl"), "utf8");
    const openaiText = await readFile(join(dir, "preferences.openai.jsonl"), "utf8");
    for (const text of [trlText, openaiText]) {
      expect(text).not.toContain("noconsent");
      expect(text).not.toContain("rater-7f3a");
      expect(text).not.toContain("secret rationale");
      expect(text.endsWith("\n")).toBe(true);
    }
    const trl = trlText.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const openai = openaiText.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(trl).toHaveLength(3);
    expect(openai).toHaveLength(3);
    for (const line of trl) expect(Object.keys(line)).toEqual(["prompt", "chosen", "rejected"]);
    for (const line of openai) expect(Object.keys(line)).toEqual(["input", "preferred_output", "non_preferred_output"]);
    expect(trl[0]).toEqual({ prompt: [{ role: "user", content: "prompt one" }], chosen: [{ role: "assistant", content: "good one" }], rejected: [{ role: "assistant", content: "bad one" }] });
    expect(openai[2]).toEqual({
      input: { messages: [{ role: "user", content: "prompt three" }] },
      preferred_output: [{ role: "assistant", content: "c3" }],
      non_preferred_output: [{ role: "assistant", content: "b3" }],
    });
  });

  it("writes a dataset card whose front matter parses", async () => {
    const dir = await tempDir("card");
    await writeBundle(dir, input({ sources: [VERSION, VERSION2], versions: [input().versions[0]!, { document: signedVersion2, communityKey: input().versions[0]!.communityKey! }] }));
    const card = await readFile(join(dir, "README.md"), "utf8");
    const match = /^---\n([\s\S]*?)\n---\n/.exec(card);
    expect(match).not.toBeNull();
    const front = simpleYaml(match![1]!);
    expect(front.license).toEqual(["cc-by-4.0", "other"]);
    expect(front.pretty_name).toBe("Gardening bundle");
    expect(front.task_categories).toEqual(["text-generation"]);
    expect(front.size_categories).toEqual(["n<1K"]);
    expect(front.configs).toEqual([
      { config_name: "trl", default: "true", data_files: [{ split: "train", path: "preferences.trl.jsonl" }] },
      { config_name: "openai", data_files: [{ split: "train", path: "preferences.openai.jsonl" }] },
    ]);
    const prose = card.slice(match![0].length);
    expect(prose).toContain(VERSION);
    expect(prose).toContain(signedVersion.contentHash as string);
    expect(prose).toContain("MIT OR Apache-2.0");
    expect(prose).toContain("preference pairs (lines in each JSONL file): 3");
    expect(front.source_datasets).toEqual([`${POLICY}/preferences`, "trl"]);
    expect(prose).toContain("- rater (given by a rater on the publishing instance, who chose the consent terms): 1");
    expect(prose).toContain("- steward-declared (declared by the community steward who imported a licensed data set (no rater was asked)): 1");
    expect(prose).toContain("`trl` is licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)");
  });

  it("is byte-identical for identical input, signed manifest and tar.gz included", async () => {
    const a = await tempDir("det-a");
    const b = await tempDir("det-b");
    const signer = { privateKey: exporterKeys.privateKey, verificationMethod: EXPORTER_KEY_ID };
    await writeBundle(join(a, "bundle"), input(), { signer, tarGz: join(a, "bundle.tar.gz") });
    await writeBundle(join(b, "bundle"), input(), { signer, tarGz: join(b, "bundle.tar.gz") });
    const files = await listFiles(join(a, "bundle"));
    expect(await listFiles(join(b, "bundle"))).toEqual(files);
    for (const file of files) {
      expect((await readFile(join(a, "bundle", file))).equals(await readFile(join(b, "bundle", file))), file).toBe(true);
    }
    const tarA = await readFile(join(a, "bundle.tar.gz"));
    expect(tarA.equals(await readFile(join(b, "bundle.tar.gz")))).toBe(true);
    expect(tarA.readUInt32LE(4)).toBe(0); // gzip mtime
    expect(tarA[9]).toBe(3);

    // The tarball holds exactly the directory's files, sorted, with fixed metadata.
    const tar = gunzipSync(tarA);
    const entries: string[] = [];
    let offset = 0;
    while (offset < tar.length && tar[offset] !== 0) {
      const header = tar.subarray(offset, offset + 512);
      const field = (start: number, length: number) => header.subarray(start, start + length).toString("utf8").replace(/\0.*$/s, "");
      const name = field(0, 100);
      const size = parseInt(field(124, 12), 8);
      expect(field(100, 8)).toBe("0000644");
      expect(field(108, 8)).toBe("0000000");
      expect(field(136, 12)).toBe("00000000000");
      expect(field(257, 6)).toBe("ustar");
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
      expect(parseInt(field(148, 8), 8)).toBe(sum);
      const body = tar.subarray(offset + 512, offset + 512 + size);
      expect(body.equals(await readFile(join(a, "bundle", name))), name).toBe(true);
      entries.push(name);
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    expect(entries).toEqual(files);

    const report = await verifyBundle(join(a, "bundle"), { keys: { [EXPORTER_KEY_ID]: exporterKeys.publicKey }, requireManifestProof: true });
    expect(failed(report)).toEqual([]);
  });

  it("skips records without train consent from an async iterable and streams many records", async () => {
    const dir = await tempDir("stream");
    const many = Array.from({ length: 5000 }, (_, i) => record({ tag: String(i), consent: { train: i % 5 !== 0, federate: false, breakdown: false } }));
    const manifest = await writeBundle(dir, input({ pages: pagesOf(await signPages(many)) }));
    expect(manifest.counts.preferencePairs).toBe(4000);
    expect(manifest.counts.skippedWithoutTrainConsent).toBe(1000);
    expect((await verifyBundle(dir)).ok).toBe(true);
  });

  it("refuses a non-empty directory and a tarball inside the bundle", async () => {
    const dir = await tempDir("nonempty");
    await writeFile(join(dir, "stray.txt"), "x");
    await expect(writeBundle(dir, input())).rejects.toThrow(/not empty/);
    const fresh = await tempDir("inside");
    await expect(writeBundle(fresh, input(), { tarGz: join(fresh, "b.tar.gz") })).rejects.toThrow(/outside/);
  });
});

describe("verifyBundle", () => {
  let base: string;
  let signedBase: string;

  beforeAll(async () => {
    base = join(await tempDir("base"), "bundle");
    await writeBundle(base, input());
    signedBase = join(await tempDir("signed"), "bundle");
    await writeBundle(signedBase, input(), { signer: { privateKey: exporterKeys.privateKey, verificationMethod: EXPORTER_KEY_ID } });
  });

  async function copy(from = base): Promise<string> {
    const dir = join(await tempDir("copy"), "bundle");
    await cp(from, dir, { recursive: true });
    return dir;
  }

  it("names the file when any one byte changes", async () => {
    const manifest = await readManifest(base);
    for (const file of Object.keys(manifest.files)) {
      const dir = await copy();
      const data = await readFile(join(dir, file));
      const at = Math.floor(data.length / 2);
      data[at] = data[at]! ^ 0x01;
      await writeFile(join(dir, file), data);
      const report = await verifyBundle(dir);
      expect(report.ok, file).toBe(false);
      expect(failed(report).some((c) => c.what === "file" && c.file === file && c.detail.includes("sha256")), file).toBe(true);
    }
  });

  it("reports missing and unlisted files", async () => {
    const dir = await copy();
    await rm(join(dir, "policy.md"));
    await writeFile(join(dir, "extra.txt"), "hello\n");
    const bad = failed(await verifyBundle(dir));
    expect(bad).toContainEqual(expect.objectContaining({ what: "file", file: "policy.md", detail: "missing" }));
    expect(bad).toContainEqual(expect.objectContaining({ what: "unlisted file", file: "extra.txt" }));
  });

  it("names the source whose proof was altered, even with the manifest made consistent", async () => {
    const dir = await copy();
    const doc = JSON.parse(await readFile(join(dir, "sources/1.json"), "utf8")) as Record<string, unknown>;
    const proof = doc.proof as Record<string, string>;
    const { proof: _original, ...unsigned } = doc;
    const other = await signDocument(unsigned, { privateKey: otherKeys.privateKey, verificationMethod: KEY_ID });
    doc.proof = { ...proof, proofValue: (other.proof as unknown as Record<string, string>).proofValue };
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    await writeFile(join(dir, "sources/1.json"), text);
    const manifest = await readManifest(dir);
    const { createHash } = await import("node:crypto");
    manifest.files["sources/1.json"] = { sha256: createHash("sha256").update(text).digest("hex"), bytes: Buffer.byteLength(text) };
    manifest.sources[0]!.proof = doc.proof;
    await writeFile(join(dir, "manifest.json"), `${canonicalJson(manifest)}\n`);
    const report = await verifyBundle(dir);
    expect(report.ok).toBe(false);
    const bad = failed(report);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ what: "source proof", file: "sources/1.json" });
    expect(bad[0]!.detail).toContain(VERSION);
    expect(bad[0]!.detail).toContain("signature mismatch");
  });

  it("fails when the source's content no longer matches its hash", async () => {
    const dir = await copy();
    const doc = JSON.parse(await readFile(join(dir, "sources/1.json"), "utf8")) as { normativeContent: { title: string } };
    doc.normativeContent.title = "Changed";
    await writeFile(join(dir, "sources/1.json"), `${JSON.stringify(doc, null, 2)}\n`);
    const bad = failed(await verifyBundle(dir));
    expect(bad.filter((c) => c.file === "sources/1.json").map((c) => c.what).sort()).toEqual(["file", "source content hash", "source proof"]);
    // The title is in policy.md's list of sources, and the manifest's hash of the source no longer holds.
    expect(bad.filter((c) => c.what === "derived").map((c) => c.file).sort()).toEqual(["manifest.json", "policy.md"]);
  });

  it("fails when an unsigned manifest is altered in what it claims", async () => {
    const dir = await copy();
    const manifest = await readManifest(dir);
    manifest.counts.preferencePairs = 99;
    manifest.licences = ["CC0-1.0"];
    manifest.sources[0]!.contentHash = `sha256:${"0".repeat(64)}`;
    await writeFile(join(dir, "manifest.json"), `${canonicalJson(manifest)}\n`);
    const bad = failed(await verifyBundle(dir));
    expect(bad).toEqual([expect.objectContaining({ what: "derived", file: "manifest.json", detail: "counts, licences, sources differ from what the sources give" })]);

    await writeFile(join(dir, "manifest.json"), "{ not json");
    const broken = await verifyBundle(dir);
    expect(broken.ok).toBe(false);
    expect(failed(broken)).toEqual([expect.objectContaining({ what: "manifest", file: "manifest.json" })]);
  });

  it("verifies a signed manifest with a pinned key and fails when it is altered", async () => {
    const keys = { [EXPORTER_KEY_ID]: await multibaseFromPublicKey(exporterKeys.publicKey) };
    expect((await verifyBundle(signedBase, { keys, requireManifestProof: true })).ok).toBe(true);

    const dir = await copy(signedBase);
    const manifest = await readManifest(dir);
    manifest.decisions = [{ clause: "kind", from: "https://evil.example/v" }];
    await writeFile(join(dir, "manifest.json"), `${canonicalJson(manifest)}\n`);
    const bad = failed(await verifyBundle(dir, { keys }));
    expect(bad).toEqual([expect.objectContaining({ what: "manifest proof", file: "manifest.json", ok: false })]);
  });

  it("decides on a signed manifest without a key by requireManifestProof", async () => {
    const lenient = await verifyBundle(signedBase);
    expect(lenient.ok).toBe(true);
    expect(lenient.checks.find((c) => c.what === "manifest proof")?.detail).toMatch(/^unverified \(no key\)/);
    const strict = await verifyBundle(signedBase, { requireManifestProof: true });
    expect(strict.ok).toBe(false);
    expect(failed(strict)).toEqual([expect.objectContaining({ what: "manifest proof", file: "manifest.json" })]);
    expect((await verifyBundle(base, { requireManifestProof: true })).ok).toBe(false);
    const fetched = await verifyBundle(signedBase, { requireManifestProof: true, fetchKey: async (id) => (id === EXPORTER_KEY_ID ? exporterKeys.publicKey : null) });
    expect(fetched.ok).toBe(true);
  });

  it("fails with a pinned wrong key even though the embedded key is right", async () => {
    const report = await verifyBundle(base, { keys: { [KEY_ID]: otherKeys.publicKey } });
    expect(report.ok).toBe(false);
    const bad = failed(report);
    expect(bad.map((c) => [c.what, c.file])).toEqual([
      ["source proof", "sources/1.json"],
      ["preference pages", "preferences/1.jsonl"],
    ]);
    expect(bad[0]!.detail).toContain(`pinned key ${KEY_ID}`);
  });

  it("uses fetchKey when no key is embedded, and fails without any key", async () => {
    const dir = join(await tempDir("nokey"), "bundle");
    await writeBundle(dir, input({ versions: [{ document: signedVersion }] }));
    const none = failed(await verifyBundle(dir));
    expect(none.map((c) => [c.what, c.file])).toEqual([
      ["source proof", "sources/1.json"],
      ["preference pages", "preferences/1.jsonl"],
    ]);
    expect(none[0]!.detail).toContain("no key");
    const fetched = await verifyBundle(dir, { fetchKey: async (id) => (id === KEY_ID ? communityKeys.publicKey : null) });
    expect(fetched.ok).toBe(true);
  });

  /** Rewrites a file and makes the manifest agree with it, as a careful forger would. */
  async function forge(dir: string, file: string, text: string): Promise<void> {
    await writeFile(join(dir, file), text);
    const manifest = await readManifest(dir);
    const { createHash } = await import("node:crypto");
    manifest.files[file] = { sha256: createHash("sha256").update(text).digest("hex"), bytes: Buffer.byteLength(text) };
    await writeFile(join(dir, "manifest.json"), `${canonicalJson(manifest)}\n`);
  }

  it("names a derived file rewritten with a matching manifest hash", async () => {
    for (const file of ["policy.md", "system-prompt.txt", "principles.json", "preferences.trl.jsonl", "preferences.openai.jsonl", "preferences.provenance.jsonl", "README.md"]) {
      const dir = await copy();
      const text = await readFile(join(dir, file), "utf8");
      await forge(dir, file, text.replace(/good one|Be kind|rater|prompt/, "mallory"));
      const bad = failed(await verifyBundle(dir));
      expect(bad.filter((c) => c.what === "file"), file).toEqual([]);
      expect(bad, file).toContainEqual(expect.objectContaining({ what: "derived", file }));
    }
  });

  it("names the page file when a record's consent or licence changed, a page is dropped, or a page was signed by another key", async () => {
    const pageText = async (pages: Record<string, unknown>[]) => pages.map((p) => `${JSON.stringify(p)}\n`).join("");
    const changed = structuredClone(defaultPages[0]!) as { orderedItems: { preference: PreferenceRecord }[] };
    changed.orderedItems[2]!.preference.consent.train = true;
    const consentDir = await copy();
    await forge(consentDir, "preferences/1.jsonl", await pageText([changed as unknown as Record<string, unknown>]));
    const consent = failed(await verifyBundle(consentDir)).find((c) => c.what === "preference pages");
    expect(consent).toMatchObject({ file: "preferences/1.jsonl", detail: expect.stringContaining("page 1: its records do not match its contentHash") });

    const twoPages = await signPages(records(), 2);
    const full = join(await tempDir("two-pages"), "bundle");
    await writeBundle(full, input({ pages: pagesOf(twoPages) }));
    expect((await verifyBundle(full)).ok).toBe(true);
    await forge(full, "preferences/1.jsonl", await pageText(twoPages.slice(0, 1)));
    expect(failed(await verifyBundle(full)).find((c) => c.what === "preference pages")?.detail).toContain("the dataset is incomplete");

    const forged = join(await tempDir("forged-page"), "bundle");
    await writeBundle(forged, input({ pages: pagesOf(await signPages(records(), 100, otherKeys.privateKey)) }));
    const bad = failed(await verifyBundle(forged));
    expect(bad).toEqual([expect.objectContaining({ what: "preference pages", file: "preferences/1.jsonl", detail: expect.stringContaining("proof does not verify") })]);
  });

  it("refuses a format 1 bundle, whose derived files nothing can check", async () => {
    const dir = await copy();
    const manifest = await readManifest(dir);
    await writeFile(join(dir, "manifest.json"), `${canonicalJson({ ...manifest, formatVersion: 1 })}\n`);
    const bad = failed(await verifyBundle(dir));
    expect(bad).toEqual([expect.objectContaining({ what: "manifest", detail: expect.stringContaining("pull or export the bundle again") })]);
  });
});

/**
 * Enough YAML for a dataset card's front matter: "key: value", "key:" with a
 * block list below, list items that are scalars or maps, double-quoted
 * (JSON-style) or plain scalars.
 */
function simpleYaml(text: string): Record<string, unknown> {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  let index = 0;
  const indentOf = (line: string) => line.length - line.trimStart().length;
  const scalar = (raw: string): string => (raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);

  function parseMap(indent: number, first?: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const entry = (content: string) => {
      const m = /^([A-Za-z_][\w-]*):(?: (.*))?$/.exec(content);
      if (!m) throw new Error(`bad YAML line: ${content}`);
      if (m[2] !== undefined) out[m[1]!] = scalar(m[2]);
      else out[m[1]!] = parseBlock(indent);
    };
    if (first !== undefined) entry(first);
    while (index < lines.length && indentOf(lines[index]!) === indent && !lines[index]!.trimStart().startsWith("- ")) {
      entry(lines[index++]!.trim());
    }
    return out;
  }

  function parseBlock(parentIndent: number): unknown {
    const line = lines[index];
    if (line === undefined) throw new Error("missing block");
    const indent = indentOf(line);
    if (!line.trimStart().startsWith("- ")) {
      if (indent <= parentIndent) throw new Error(`bad indent: ${line}`);
      return parseMap(indent);
    }
    if (indent < parentIndent) throw new Error(`bad indent: ${line}`);
    const list: unknown[] = [];
    while (index < lines.length && indentOf(lines[index]!) === indent && lines[index]!.trimStart().startsWith("- ")) {
      const item = lines[index++]!.trimStart().slice(2);
      if (/^[A-Za-z_][\w-]*:( |$)/.test(item)) list.push(parseMap(indent + 2, item));
      else list.push(scalar(item));
    }
    return list;
  }

  const result = parseMap(0);
  if (index !== lines.length) throw new Error(`unparsed YAML from: ${lines[index]}`);
  return result;
}
