/**
 * Bundle pull at scale: a policy with 1,000 clauses and 100,000 consented
 * preference records on a real instance (a separate process on loopback),
 * pulled by `pullBundle` in its own process — every version and dataset
 * page checked, composed, written — with seconds and peak memory; then
 * `verifyBundle` on the result, offline, in its own process (every proof
 * and page checked, every derived file derived again). First, one fetch of
 * every page right after the import, while the instance signs each page
 * (its cache of signed pages is cold); then baseline, pull and verify three
 * times, interleaved, with medians. Baseline in the same run:
 * fetching the same dataset pages and parsing them, with no checks and no
 * files written. Target: pull under 10 s and 300 MB.
 *
 *   npm run bench:bundle -- [--clauses 1000] [--records 100000]
 */
import "../src/polyfills.ts";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pullBundle } from "../src/bundles/pull.ts";
import { verifyBundle } from "../src/bundles/verify.ts";
import { runCli, startInstance } from "../test/harness.ts";

const { values: args } = parseArgs({
  options: { clauses: { type: "string", default: "1000" }, records: { type: "string", default: "100000" }, phase: { type: "string" }, source: { type: "string" }, out: { type: "string" } },
});

async function baseline(source: string): Promise<number> {
  const accept = { Accept: "application/activity+json" };
  const collection = (await (await fetch(`${source}/preferences`, { headers: accept })).json()) as { first?: string };
  let next = collection.first;
  let count = 0;
  while (next) {
    const page = (await (await fetch(next, { headers: accept })).json()) as { orderedItems: unknown[]; next?: string };
    count += page.orderedItems.length;
    next = page.next;
  }
  return count;
}

async function phase(): Promise<void> {
  const start = performance.now();
  let records = 0;
  if (args.phase === "pull") {
    const result = await pullBundle({ sources: [args.source!], withPreferences: true, out: args.out! });
    records = result.manifest.counts.preferenceRecords;
  } else if (args.phase === "verify") {
    const report = await verifyBundle(args.out!);
    if (!report.ok) throw new Error(`verify failed: ${JSON.stringify(report.checks.filter((c) => !c.ok))}`);
    records = report.checks.length;
  } else {
    records = await baseline(args.source!);
  }
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(JSON.stringify({ seconds, records, peakMiB: process.resourceUsage().maxRSS / 1024 }));
}

type Run = { seconds: number; records: number; peakMiB: number };
const RUNS = 3;

/** The run with the median time (its own memory figure alongside). */
function median(runs: Run[]): Run {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
}

function child(name: string, source: string, out: string): Run {
  const flags = Number(process.versions.node.split(".")[0]) < 22 ? ["--harmony-json-parse-with-source"] : [];
  const run = spawnSync(process.execPath, [...flags, "--import", "tsx", fileURLToPath(import.meta.url), "--phase", name, "--source", source, "--out", out], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (run.status !== 0) throw new Error(`${name} failed`);
  return JSON.parse(run.stdout);
}

async function main(): Promise<void> {
  if (args.phase) return phase();
  const clauses = Number(args.clauses);
  const records = Number(args.records);
  const work = mkdtempSync(join(tmpdir(), "fedalign-bench-bundle-"));
  const instance = await startInstance({ extraArgs: ["--log-level", "error"] });
  try {
    console.log(`Bundle pull benchmark: ${clauses} clauses, ${records.toLocaleString("en")} preference records, Node ${process.version}.`);
    const steward = await instance.createUser("steward");
    await instance.cli(["admin", "community", "create", "bench", "--name", "Bench", "--steward", "steward", "--data", instance.dataDir]);
    const content = {
      title: "Benchmark policy",
      licence: "CC0-1.0",
      clauses: Array.from({ length: clauses }, (_, i) => ({
        id: `clause_${i}`,
        authority: ["root", "system", "developer", "user", "guideline"][i % 5],
        text: `Clause ${i}: the assistant should weigh consideration ${i} carefully, explain its reasoning, and defer to people affected.`,
      })),
    };
    const policy = (await instance.api<{ id: number; iri: string }>("POST", "policies", { token: steward.token, body: { community: "bench", slug: "bench", content } })).body;
    await instance.api("POST", `policies/${policy.id}/publish`, { token: steward.token, body: {} });
    const file = join(work, "records.trl.jsonl");
    writeFileSync(file, Array.from({ length: records }, (_, i) => JSON.stringify({ prompt: `Question ${i}?`, chosen: `A careful answer ${i}.`, rejected: `A careless answer ${i}.` })).join("\n"));
    const imported = await runCli(["--server", instance.origin, "--token", steward.token, "prefs", "import", "bench", file, "--format", "trl", "--policy", String(policy.id), "--consent", "train,federate"], { timeoutMs: 600_000 });
    if (imported.code !== 0) throw new Error(imported.stderr);

    // First fetch of every page after the import: the instance signs each one (its cache of signed pages is cold).
    const cold = child("baseline", policy.iri, join(work, "unused"));
    // The machine is shared and noisy: medians of three runs, baseline, pull and verify interleaved.
    const runs: { base: Run; pulled: Run; verified: Run }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const out = join(work, `bundle-${i}`);
      runs.push({ base: child("baseline", policy.iri, join(work, "unused")), pulled: child("pull", policy.iri, out), verified: child("verify", policy.iri, out) });
    }
    const base = median(runs.map((r) => r.base));
    const pulled = median(runs.map((r) => r.pulled));
    const verified = median(runs.map((r) => r.verified));
    const row = (name: string, r: { seconds: number; peakMiB: number }, what: string) =>
      console.log(`${name.padEnd(58)} ${r.seconds.toFixed(1).padStart(6)} s  peak ${r.peakMiB.toFixed(0).padStart(4)} MiB  ${what}`);
    console.log(`medians of ${RUNS} runs, except the first line (one run, first fetch after the import)`);
    row("first fetch of every page, instance signs each (cold)", cold, `${cold.records} records`);
    row("baseline (fetch and parse every page, no checks)", base, `${base.records} records`);
    row("bundle pull (check, compose, write; signed pages cached)", pulled, `${pulled.records} records`);
    row("bundle verify, offline (proofs, pages, every file derived)", verified, `${verified.records} checks`);
    console.log(
      `pull / baseline time: ${(pulled.seconds / base.seconds).toFixed(2)}; signing every page costs the instance about ${(cold.seconds - base.seconds).toFixed(1)} s once; ` +
        `targets: pull under 10 s (${pulled.seconds < 10 ? "yes" : "NO"}), under 300 MiB (${pulled.peakMiB < 300 ? "yes" : "NO"}); verify ${verified.seconds.toFixed(1)} s offline`,
    );
  } finally {
    await instance.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
