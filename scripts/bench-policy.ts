/**
 * Policy pipeline timings on the real Model Spec (270 KB, 59 clauses):
 * import the Markdown, publish it as a signed version (hash, render,
 * Ed25519 proof, database write), and diff it against a version with 10 %
 * of its clauses edited. Targets: each under 1 s.
 *
 *   npm run bench:policy -- [--runs 7]
 *
 * Baseline measured in the same run: JSON.parse + JSON.stringify + SHA-256
 * of the same content, the least any step that reads the policy must do;
 * the ratios say how many times that floor each step costs. Medians of
 * --runs, after one warm-up run.
 */
import "../src/polyfills.ts";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { closeDatabase } from "../db/client.ts";
import { createUser } from "../src/accounts/users.ts";
import { generateActorKeys, importKeyPair } from "../src/actors/keys.ts";
import { createCommunity } from "../src/communities.ts";
import { openInstanceDatabase } from "../db/open.ts";
import type { PolicyContent } from "../src/policies/content.ts";
import { diffContents } from "../src/policies/diff.ts";
import { importModelSpec } from "../src/policies/import/modelspec.ts";
import { createPolicy, saveDraft } from "../src/policies/policies.ts";
import { signDocument } from "../src/policies/proof.ts";
import { publishDraft } from "../src/policies/publish.ts";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "7" } } });
const RUNS = Number(args.runs);
const MODEL_SPEC = fileURLToPath(new URL("../test/fixtures/model_spec/model_spec.md", import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function time(fn: () => unknown | Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function measure(fn: () => unknown | Promise<unknown>): Promise<number> {
  await fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await time(fn));
  return median(samples);
}

/** Every tenth clause gets a sentence appended: 10 % of clauses edited. */
function editTenPercent(content: PolicyContent): PolicyContent {
  const edited = structuredClone(content);
  edited.clauses.forEach((clause, i) => {
    if (i % 10 === 0) clause.text = `${clause.text}\n\nThis clause was amended by the community in the benchmark.`;
  });
  return edited;
}

async function main() {
  const markdown = readFileSync(MODEL_SPEC, "utf8");
  const content = importModelSpec(markdown).content;
  const edited = editTenPercent(content);
  const dataDir = mkdtempSync(join(tmpdir(), "fedalign-bench-policy-"));
  const db = openInstanceDatabase(dataDir, "create");
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  try {
    const steward = await createUser(db, { username: "steward", password: "bench password" });
    const community = await createCommunity(db, { handle: "bench", name: "Bench", steward });
    const ed25519 = (await generateActorKeys()).find((key) => key.algorithm === "Ed25519")!;
    const { privateKey } = await importKeyPair(ed25519);
    const sign = (doc: Record<string, unknown>) =>
      signDocument(doc, { privateKey, verificationMethod: "http://127.0.0.1/actors/bench#multikey-2" });

    const baseline = await measure(() => createHash("sha256").update(JSON.stringify(JSON.parse(JSON.stringify(content)))).digest("hex"));
    const importMs = await measure(() => importModelSpec(markdown));
    let n = 0;
    const publishMs = await measure(async () => {
      // A fresh policy each time: publish = hash + render + sign + store.
      const policy = await createPolicy(db, { origin: "http://127.0.0.1", community, slug: `spec-${n++}`, content });
      await publishDraft(db, { policy, ownerFollowersIri: "http://127.0.0.1/actors/bench/followers", sign });
    });
    const republishMs = await measure(async () => {
      // Publishing v2 after v1 also computes the default changelog (a diff).
      const policy = await createPolicy(db, { origin: "http://127.0.0.1", community, slug: `spec-${n++}`, content });
      await publishDraft(db, { policy, ownerFollowersIri: "http://127.0.0.1/actors/bench/followers", sign });
      await publishDraft(db, { policy: await saveDraft(db, policy, edited), ownerFollowersIri: "http://127.0.0.1/actors/bench/followers", sign });
    });
    const diffMs = await measure(() => diffContents(content, edited));
    const diff = diffContents(content, edited);

    console.log(`Model Spec: ${(markdown.length / 1024).toFixed(0)} KB, ${content.clauses.length} clauses; medians of ${RUNS} runs, Node ${process.version}.`);
    console.log(`baseline (parse + stringify + sha256 of the content)  ${baseline.toFixed(1).padStart(7)} ms`);
    const row = (label: string, ms: number) =>
      console.log(`${label.padEnd(52)} ${ms.toFixed(1).padStart(7)} ms   ${(ms / baseline).toFixed(1).padStart(6)} x baseline   ${ms < 1000 ? "under" : "OVER"} 1 s`);
    row("import Model Spec Markdown", importMs);
    row("publish v1 (hash, render, sign, store)", publishMs);
    row("publish v1 then v2 with 10 % edited (incl. diff)", republishMs);
    row(`diff v1 -> v2 (${diff.summary.edited} of ${content.clauses.length} clauses edited)`, diffMs);
    console.log(`peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    clearInterval(sampler);
    closeDatabase(db);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
