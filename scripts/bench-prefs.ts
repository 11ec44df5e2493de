/**
 * Preference data at scale: import and export of N synthetic records (one
 * million by default) through the real code paths — TRL JSONL parsed line by
 * line and staged into SQLite, then exported as TRL JSONL — with records per
 * second and peak memory for each direction. Baseline, measured in the same
 * run on the same table: a bare better-sqlite3 SELECT of every row,
 * serialised with JSON.stringify and written out. Targets: export at least
 * half the baseline's rate; peak memory under 300 MB in both directions.
 *
 *   npm run bench:prefs -- [--records 1000000]
 *
 * Each phase runs in its own process, so each peak memory is its own.
 */
import "../src/polyfills.ts";
import { spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { closeDatabase, databasePath, openDatabase } from "../db/client.ts";
import { createUser } from "../src/accounts/users.ts";
import { createCommunity, getCommunity } from "../src/communities.ts";
import { openInstanceDatabase } from "../db/open.ts";
import { parsePreferenceLines, toTrlLines } from "../src/preferences/formats.ts";
import { importRecords, trainableRecords } from "../src/preferences/store.ts";

const { values: args } = parseArgs({
  options: { records: { type: "string", default: "1000000" }, phase: { type: "string" }, dir: { type: "string" } },
});
const RECORDS = Number(args.records);

/** Writes with back-pressure, so memory stays flat however large the output. */
async function writeAll(file: string, lines: AsyncIterable<string> | Iterable<string>): Promise<number> {
  const out = createWriteStream(file);
  let count = 0;
  let chunk = "";
  for await (const line of lines) {
    chunk += line;
    count++;
    if (chunk.length >= 1 << 16) {
      if (!out.write(chunk)) await once(out, "drain");
      chunk = "";
    }
  }
  out.end(chunk);
  await once(out, "finish");
  return count;
}

function* syntheticLines(n: number): Generator<string> {
  for (let i = 0; i < n; i++) {
    yield `${JSON.stringify({
      prompt: [{ role: "user", content: `Synthetic question number ${i}: is it right to do thing ${i % 97}?` }],
      chosen: [{ role: "assistant", content: `A careful answer to question ${i}, weighing both sides.` }],
      rejected: [{ role: "assistant", content: `A careless answer to question ${i}.` }],
    })}\n`;
  }
}

async function phaseImport(dir: string): Promise<Record<string, number>> {
  const db = openInstanceDatabase(join(dir, "data"), "create");
  const steward = await createUser(db, { username: "steward", password: "bench password" });
  const community = await createCommunity(db, { handle: "bench", name: "Bench", steward });
  const start = performance.now();
  const lines = parsePreferenceLines(join(dir, "synthetic.trl.jsonl"), "trl", {
    source: { name: "synthetic", licence: "CC0-1.0" },
    consent: { train: true, federate: true, breakdown: false },
    createdAt: new Date().toISOString(),
  });
  const report = await importRecords(db, lines, { communityId: community.id, policyId: null, onError: "stop", batchSize: 5000 });
  const seconds = (performance.now() - start) / 1000;
  closeDatabase(db);
  return { records: report.imported, seconds, rate: report.imported / seconds };
}

async function phaseExport(dir: string): Promise<Record<string, number>> {
  const db = openDatabase(databasePath(join(dir, "data")), { mustExist: true });
  const community = await getCommunity(db, "bench");
  async function* lines() {
    for await (const record of trainableRecords(db, { communityId: community.id })) yield* toTrlLines(record);
  }
  const start = performance.now();
  const count = await writeAll(join(dir, "export.trl.jsonl"), lines());
  const seconds = (performance.now() - start) / 1000;
  closeDatabase(db);
  return { records: count, seconds, rate: count / seconds };
}

async function phaseBaseline(dir: string): Promise<Record<string, number>> {
  const db = openDatabase(databasePath(join(dir, "data")), { mustExist: true });
  // Raw rows in keyset pages, each read with the connection held (as the
  // export reads them), so the baseline pays the same paging.
  const page = db.$client.raw.prepare<[number], { id: number }>("SELECT * FROM preference_records WHERE id > ? ORDER BY id LIMIT 1000");
  async function* lines() {
    let after = 0;
    for (;;) {
      const rows = await db.$client.exclusive(() => page.all(after));
      for (const row of rows) yield `${JSON.stringify(row)}\n`;
      if (rows.length < 1000) return;
      after = rows.at(-1)!.id;
    }
  }
  const start = performance.now();
  const count = await writeAll(join(dir, "baseline.jsonl"), lines());
  const seconds = (performance.now() - start) / 1000;
  closeDatabase(db);
  return { records: count, seconds, rate: count / seconds };
}

async function runPhase(phase: string, dir: string): Promise<void> {
  const result = phase === "import" ? await phaseImport(dir) : phase === "export" ? await phaseExport(dir) : await phaseBaseline(dir);
  // maxRSS is in kilobytes: the peak of this process, this phase alone.
  process.stdout.write(JSON.stringify({ ...result, peakMiB: process.resourceUsage().maxRSS / 1024 }));
}

function child(phase: string, dir: string): Record<string, number> {
  const flags = Number(process.versions.node.split(".")[0]) < 22 ? ["--harmony-json-parse-with-source"] : [];
  const run = spawnSync(process.execPath, [...flags, "--import", "tsx", fileURLToPath(import.meta.url), "--phase", phase, "--dir", dir, "--records", String(RECORDS)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) throw new Error(`${phase} phase failed`);
  return JSON.parse(run.stdout) as Record<string, number>;
}

async function main(): Promise<void> {
  if (args.phase && args.dir) return await runPhase(args.phase, args.dir);
  const dir = mkdtempSync(join(tmpdir(), "fedalign-bench-prefs-"));
  try {
    console.log(`Preference data benchmark: ${RECORDS.toLocaleString("en")} synthetic records, Node ${process.version}.`);
    await writeAll(join(dir, "synthetic.trl.jsonl"), syntheticLines(RECORDS));
    console.log(`input: ${(statSync(join(dir, "synthetic.trl.jsonl")).size / 2 ** 20).toFixed(0)} MiB of TRL JSONL`);
    const imported = child("import", dir);
    const exported = child("export", dir);
    const baseline = child("baseline", dir);
    const row = (label: string, r: Record<string, number>) =>
      console.log(`${label.padEnd(44)} ${Math.round(r.rate!).toLocaleString("en").padStart(9)} records/s  ${r.seconds!.toFixed(1).padStart(6)} s  peak ${r.peakMiB!.toFixed(0).padStart(4)} MiB`);
    row("import (parse TRL, validate, stage, commit)", imported);
    row("export (consented records as TRL)", exported);
    row("baseline (SELECT * + JSON.stringify)", baseline);
    console.log(`export / baseline rate: ${(exported.rate! / baseline.rate!).toFixed(2)} (target >= 0.50)`);
    console.log(`peak memory under 300 MiB: import ${imported.peakMiB! < 300 ? "yes" : "NO"}, export ${exported.peakMiB! < 300 ? "yes" : "NO"}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
