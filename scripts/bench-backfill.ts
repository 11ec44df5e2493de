/**
 * Backfill on follow, over loopback: an origin instance (a real `fedalign
 * serve` process) holds a policy with 20 published versions of the Model
 * Spec (270 KB each); a follower backfills it the way an accepted follow
 * does (federation/backfill.ts: the policy document fresh, then every
 * version fetched, parsed, hash-checked, proof-verified with the community's
 * key and stored). Baseline in the same run: fetching the same 21 documents
 * with plain fetch + JSON.parse, no checks, nothing stored.
 *
 *   npm run bench:backfill -- [--runs 5] [--versions 20]
 *
 * Each sample runs in a fresh child process with a fresh database, so
 * nothing is cached and the peak memory (maxRSS) is that sample's own. Both
 * kinds of child load the same modules, so their peaks compare. Medians of
 * --runs samples, the two kinds alternating.
 */
import "../src/polyfills.ts";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { backfillFollowed } from "../federation/backfill.ts";
import { openInstance } from "../src/instance.ts";
import { recordOutgoingFollow, setFollowState } from "../src/follows.ts";
import { persistPolicyPlaceholder } from "../federation/entities/version.ts";
import { listVersions } from "../src/policies/policies.ts";
import { startInstance } from "../test/harness.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    versions: { type: "string", default: "20" },
    child: { type: "string" },
    policy: { type: "string" },
    owner: { type: "string" },
  },
});
const SELF = fileURLToPath(import.meta.url);
const MODEL_SPEC = fileURLToPath(new URL("../test/fixtures/model_spec/model_spec.md", import.meta.url));

interface Sample {
  ms: number;
  peakMb: number;
  startMb: number;
  documents: number;
  bytes: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const mb = (bytes: number) => bytes / 1024 / 1024;

/** A follower's backfill, as on an accepted follow, into a fresh database. */
async function backfillOnce(policyIri: string, ownerIri: string): Promise<{ documents: number; bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), "fedalign-bench-backfill-"));
  // A follower instance as `fedalign serve` assembles it (guarded loaders included), not listening.
  const instance = await openInstance({ dataDir: dir, origin: "http://127.0.0.1:1", allowPrivateAddress: true });
  try {
    const ctx = instance.federation.createContext(new URL(instance.origin), instance.data);
    const policy = await persistPolicyPlaceholder(ctx, { id: policyIri, attributedTo: ownerIri });
    // The state right after the community's Accept: a follow of the policy (versions nobody follows are refused).
    const follow = await recordOutgoingFollow(instance.db, { followerIri: `${instance.origin}/actors/bench`, followeeIri: policyIri, activityIri: `${instance.origin}/actors/bench#follow` });
    await setFollowState(instance.db, follow.id, "accepted");
    await backfillFollowed(ctx, policyIri);
    const held = await listVersions(instance.db, policy);
    return { documents: held.length + 1, bytes: held.reduce((sum, v) => sum + JSON.stringify(v.document).length, 0) };
  } finally {
    await instance.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same documents with no checks: the policy, then each version by its previousVersion link. */
async function plainFetchOnce(policyIri: string): Promise<{ documents: number; bytes: number }> {
  const get = async (url: string) => {
    const response = await fetch(url, { headers: { Accept: "application/activity+json" } });
    const text = await response.text();
    return { json: JSON.parse(text) as Record<string, unknown>, bytes: text.length };
  };
  const policy = await get(policyIri);
  let next = policy.json.headVersion as string | null | undefined;
  let documents = 1;
  let bytes = 0;
  while (next) {
    const version = await get(next);
    documents++;
    bytes += version.bytes;
    next = version.json.previousVersion as string | null | undefined;
  }
  return { documents, bytes };
}

async function child(kind: string): Promise<void> {
  const startMb = mb(process.memoryUsage().rss);
  const start = performance.now();
  const result = kind === "backfill" ? await backfillOnce(args.policy!, args.owner!) : await plainFetchOnce(args.policy!);
  const ms = performance.now() - start;
  // maxRSS is in kilobytes.
  const sample: Sample = { ms, peakMb: process.resourceUsage().maxRSS / 1024, startMb, ...result };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}

function runChild(kind: string, policy: string, owner: string): Sample {
  const flags = Number(process.versions.node.split(".")[0]) < 22 ? ["--harmony-json-parse-with-source"] : [];
  const out = execFileSync(process.execPath, [...flags, "--import", "tsx", SELF, "--child", kind, "--policy", policy, "--owner", owner], {
    encoding: "utf8",
    env: { ...process.env, FEDALIGN_LOG_LEVEL: "error" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out.trim().split("\n").pop()!) as Sample;
}

/** An origin instance with a policy of `count` versions of the Model Spec, each a small edit of the last. */
async function prepareOrigin(count: number) {
  const origin = await startInstance();
  const steward = await origin.createUser("steward");
  const created = await origin.cli(["admin", "community", "create", "openai", "--name", "Model Spec", "--steward", "steward", "--data", origin.dataDir]);
  if (created.code !== 0) throw new Error(created.stderr);
  const imported = await origin.api<{ policy: { id: number; iri: string } }>("POST", "policies/import", {
    token: steward.token,
    body: { community: "openai", format: "modelspec", source: readFileSync(MODEL_SPEC, "utf8"), slug: "model-spec" },
  });
  if (imported.status !== 201) throw new Error(`import failed: ${JSON.stringify(imported.body)}`);
  const { id, iri } = imported.body.policy;
  for (let i = 1; i <= count; i++) {
    if (i > 1) {
      const draft = await origin.api<{ clauses: { text: string }[] }>("GET", `policies/${id}/draft`, { token: steward.token });
      const clause = draft.body.clauses[i % draft.body.clauses.length]!;
      clause.text = `${clause.text}\n\nAmended in revision ${i}.`;
      const saved = await origin.api("PUT", `policies/${id}/draft`, { token: steward.token, body: draft.body });
      if (saved.status !== 200) throw new Error(`draft failed: ${JSON.stringify(saved.body)}`);
    }
    const published = await origin.api("POST", `policies/${id}/publish`, { token: steward.token, body: { message: `Revision ${i}.` } });
    if (published.status !== 201) throw new Error(`publish failed: ${JSON.stringify(published.body)}`);
  }
  return { origin, policyIri: iri, ownerIri: origin.actorUri("openai") };
}

async function main(): Promise<void> {
  if (args.child) return await child(args.child);
  const runs = Number(args.runs);
  const count = Number(args.versions);
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(count) || count < 1 || count > 21) {
    throw new Error("--runs must be a positive integer and --versions 1 to 21 (a backfill fetches the head and up to 20 earlier versions).");
  }
  console.log(`Preparing an origin with ${count} versions of the Model Spec...`);
  const { origin, policyIri, ownerIri } = await prepareOrigin(count);
  try {
    const backfill: Sample[] = [];
    const plain: Sample[] = [];
    runChild("plain", policyIri, ownerIri); // warm-up (origin caches, disk)
    for (let i = 0; i < runs; i++) {
      plain.push(runChild("plain", policyIri, ownerIri));
      backfill.push(runChild("backfill", policyIri, ownerIri));
    }
    if (backfill.some((s) => s.documents !== count + 1)) throw new Error(`a backfill did not hold all ${count} versions: ${JSON.stringify(backfill)}`);
    const row = (name: string, samples: Sample[]) => {
      const ms = median(samples.map((s) => s.ms));
      const peak = median(samples.map((s) => s.peakMb));
      const start = median(samples.map((s) => s.startMb));
      console.log(
        `${name.padEnd(34)} ${(ms / 1000).toFixed(2).padStart(6)} s   peak RSS ${peak.toFixed(0).padStart(4)} MB (start ${start.toFixed(0)} MB, +${(peak - start).toFixed(0)} MB)`,
      );
      return { ms, peak, start };
    };
    console.log(`\n${count} versions, ${(median(plain.map((s) => s.bytes)) / 1024 / 1024).toFixed(1)} MB of version documents; medians of ${runs} runs`);
    const base = row("plain fetch, no checks (baseline)", plain);
    const checked = row("backfill (fetch, verify, store)", backfill);
    console.log(
      `\nbackfill / baseline: time ${(checked.ms / base.ms).toFixed(1)}x, peak RSS ${(checked.peak / base.peak).toFixed(2)}x, RSS growth ${((checked.peak - checked.start) / Math.max(1, base.peak - base.start)).toFixed(1)}x`,
    );
  } finally {
    await origin.destroy();
  }
}

await main();
