/**
 * The real Model Spec, imported, signed and bundled as an operator gets it:
 * no Markdown debris (footnote markers, bare `?` links, admonition markers,
 * HTML entities) in any clause text, system prompt, principle or training
 * record; cross-references read as their target's title; commentary stays
 * out of what the model is told; and re-importing a newer spec gives a
 * clause-level diff.
 */
import { webcrypto } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeBundle } from "../src/bundles/bundle.ts";
import { verifyBundle } from "../src/bundles/verify.ts";
import { diffContents, diffToText } from "../src/policies/diff.ts";
import { contentHash } from "../src/policies/hash.ts";
import { importModelSpec } from "../src/policies/import/modelspec.ts";
import { debrisCounts } from "../src/policies/import/markdown-prose.ts";
import { multibaseFromPublicKey, signDocument } from "../src/policies/proof.ts";

const COMMUNITY = "https://spec.example/actors/openai";
const KEY_ID = `${COMMUNITY}#multikey-1`;
const POLICY = "https://spec.example/policies/model-spec";
const VERSION = `${POLICY}/versions/1`;
const markdown = readFileSync(new URL("./fixtures/model_spec/model_spec.md", import.meta.url), "utf8");
const { content } = importModelSpec(markdown);

let work: string;
let compact: string;
let full: string;

type Debris = ReturnType<typeof debrisCounts>;
const ZERO: Debris = { footnotes: 0, bareLinks: 0, admonitions: 0, entities: 0 };

function debris(texts: string[]): Debris {
  const total = { ...ZERO };
  for (const text of texts) {
    const counts = debrisCounts(text);
    for (const key of Object.keys(total) as (keyof Debris)[]) total[key] += counts[key];
  }
  return total;
}

async function bundle(dir: string, systemPrompt: "compact" | "full"): Promise<void> {
  const keys = (await webcrypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
  const document = await signDocument(
    {
      id: VERSION,
      type: ["Article", "PolicyVersion"],
      attributedTo: COMMUNITY,
      published: "2025-09-12T00:00:00Z",
      policy: POLICY,
      versionNumber: 1,
      licence: content.licence,
      contentHash: contentHash(content),
      normativeContent: content,
    },
    { privateKey: keys.privateKey, verificationMethod: KEY_ID, created: new Date("2025-09-12T00:00:00Z") },
  );
  await writeBundle(dir, {
    sources: [VERSION],
    versions: [{ document, communityKey: { id: KEY_ID, publicKeyMultibase: await multibaseFromPublicKey(keys.publicKey) } }],
    systemPrompt,
    title: "Model Spec",
  });
  const report = await verifyBundle(dir);
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "fedalign-modelspec-"));
  compact = join(work, "compact");
  full = join(work, "full");
  await bundle(compact, "compact");
  await bundle(full, "full");
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("the Model Spec in a bundle", () => {
  it("has no footnote marker, bare ? link, admonition marker or HTML entity anywhere the model or trainer reads", async () => {
    const read = (dir: string, file: string) => readFile(join(dir, file), "utf8");
    const clauseTexts = content.clauses.map((c) => c.text);
    const prompts = [await read(compact, "system-prompt.txt"), await read(full, "system-prompt.txt")];
    const principles = JSON.parse(await read(compact, "principles.json")) as { principle: string; critique: string; revision: string }[];
    const training = ["preferences.trl.jsonl", "preferences.openai.jsonl"].map((file) => read(compact, file));
    const records = (await Promise.all(training)).flatMap((text) => text.split("\n").filter(Boolean).map((line) => JSON.stringify(JSON.parse(line))));
    const counts = {
      clauseTexts: debris(clauseTexts),
      systemPrompts: debris(prompts),
      principles: debris(principles.flatMap((p) => [p.principle, p.critique, p.revision])),
      trainingRecords: debris((await Promise.all(training)).flatMap((text) => text.split("\n").filter(Boolean).map((line) => JSON.parse(line) as unknown).map((v) => JSON.stringify(v)))),
    };
    expect(counts).toEqual({ clauseTexts: ZERO, systemPrompts: ZERO, principles: ZERO, trainingRecords: ZERO });
    // A JSON-escaped entity would hide from the count above: look at the decoded strings too.
    expect(records.join("\n")).not.toMatch(/&(gt|lt|amp|quot);/);
    expect(principles).toHaveLength(content.clauses.length);
    expect(records.length).toBeGreaterThan(100);
    // The same debris the issue counted in the source: what the import started from.
    expect(debris([markdown])).toMatchObject({ footnotes: 116, bareLinks: 66, admonitions: 28 });
  });

  it("names cross-referenced clauses by title, keeps commentary out of the prompt, and keeps prompts and principles short", async () => {
    const prompt = await readFile(join(compact, "system-prompt.txt"), "utf8");
    expect(prompt).toContain("(see Respect the letter and spirit of instructions [letter_and_spirit])");
    for (const clause of content.clauses.filter((c) => c.commentary)) {
      const firstLine = clause.commentary!.split("\n")[0]!;
      expect(prompt, clause.id).not.toContain(firstLine);
    }
    const markdownFile = await readFile(join(compact, "policy.md"), "utf8");
    expect(markdownFile).toContain("*Commentary (not normative):*");
    const manifest = JSON.parse(await readFile(join(compact, "manifest.json"), "utf8"));
    const fullManifest = JSON.parse(await readFile(join(full, "manifest.json"), "utf8"));
    expect(manifest.systemPrompts[0].words).toBeLessThan(fullManifest.systemPrompts[0].words);
    expect(manifest.systemPrompts[0].approxTokens).toBeGreaterThan(manifest.systemPrompts[0].words);
    const principles = JSON.parse(await readFile(join(compact, "principles.json"), "utf8")) as { principle: string }[];
    expect(Math.max(...principles.map((p) => p.principle.length))).toBeLessThanOrEqual(450);
    const fromPolicy = (await readFile(join(compact, "preferences.provenance.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(fromPolicy.every((p) => p.origin === "policy" && p.clauseIds.length === 1)).toBe(true);
    expect(manifest.counts.policyExampleRecords).toBeGreaterThan(100);
  });

  it("diffs a newer Model Spec clause by clause, commentary marked as not normative", () => {
    const newer = markdown
      .replace("The assistant must strive to follow all *applicable instructions*", "The assistant must always strive to follow all *applicable instructions*")
      .replace("a later instruction at the same authority[^d32l].", "a later instruction at the same authority[^d32l][^new1].")
      .replace("    In the main body of the Model Spec, commentary", "    In the body of the Model Spec, commentary");
    expect(newer).not.toBe(markdown);
    const diff = diffContents(content, importModelSpec(newer).content);
    expect(diff.summary).toEqual({ added: 0, removed: 0, moved: 0, edited: 1 });
    expect(diff.clauses.edited[0]).toMatchObject({ id: "follow_all_applicable_instructions", changes: ["text", "notes"] });
    const text = diffToText(diff);
    expect(text).toContain("{+always +}");
    expect(text).toContain('"id":"new1"');
    expect(text).not.toMatch(/\[\^|\[\?\]|!!!/);

    const commentaryOnly = markdown.replace("While we believe that our models should not autonomously whistleblow", "While we hold that our models should not autonomously whistleblow");
    expect(commentaryOnly).not.toBe(markdown);
    const edited = diffContents(content, importModelSpec(commentaryOnly).content);
    expect(edited.clauses.edited.map((e) => e.changes)).toEqual([["commentary"]]);
    expect(diffToText(edited)).toContain("commentary (not normative): ");
  });
});
