/**
 * Opinion analysis at scale. By default 10,000 participants × 1,000
 * statements with 5% of the cells voted (~500k votes), drawn from four
 * latent opinion groups (seeded); `--polis <dir>` runs on a real Polis export
 * instead. Times and peak RSS for opinionGroups and bridgingScores, and the
 * baseline measured in the same run: building the vote matrix alone.
 * Target: total under 10 s and 1 GB, or under 30 s and 2 GB from 50,000
 * participants on (the 100,000 × 2,000 at 1% run).
 *
 *   node scripts/node.js --tsx scripts/bench-opinions.ts [--participants 10000] [--statements 1000] [--density 0.05]
 *   node scripts/node.js --tsx scripts/bench-opinions.ts --polis test/fixtures/polis/vtaiwan.uberx
 *   npm run bench:opinions -- --suite    (issue 18's three runs, each in its own process so that
 *                                          peak memory is its own: the default synthetic, the largest
 *                                          conversation in test/fixtures/polis, and 100,000 × 2,000 at 1%)
 */
import "../src/polyfills.ts";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { bridgingScores, opinionGroups, seededRandom, voteMatrix, type Vote } from "../src/participation/opinions.ts";
import { readPolisExport } from "../src/participation/polis.ts";

if (process.argv.includes("--suite")) {
  const dirs = readdirSync("test/fixtures/polis").map((d) => join("test/fixtures/polis", d)).filter((d) => statSync(d).isDirectory());
  const votesFile = (d: string) => ["votes.csv", "votes.csv.gz"].map((f) => join(d, f)).find((f) => existsSync(f));
  const largest = dirs.filter(votesFile).sort((a, b) => statSync(votesFile(b)!).size - statSync(votesFile(a)!).size)[0]!;
  const runs = [[], ["--polis", largest], ["--participants", "100000", "--statements", "2000", "--density", "0.01"]];
  let failed = 0;
  for (const extra of runs) {
    console.log(`\n$ bench-opinions ${extra.join(" ")}`);
    const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...extra], { stdio: "inherit" });
    if (r.status !== 0) failed++;
  }
  process.exit(failed === 0 ? 0 : 1);
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const P = arg("participants", 10_000);
const S = arg("statements", 1_000);
const density = arg("density", 0.05);
const G = 4;
const polisDir = process.argv.includes("--polis") ? process.argv[process.argv.indexOf("--polis") + 1] : undefined;
const large = P >= 50_000;
const [targetSeconds, targetMb] = large ? [30, 2048] : [10, 1024];

function synthetic(): Vote[] {
const rand = seededRandom(2024);
// Each group has an agree probability per statement; a tenth of statements are shared by all.
const pAgree = Array.from({ length: G }, () => Float64Array.from({ length: S }, () => rand()));
for (let s = 0; s < S; s += 10) for (let g = 0; g < G; g++) pAgree[g]![s] = 0.9;
const votes: Vote[] = [];
for (let p = 0; p < P; p++) {
  const g = Math.floor(rand() * G);
  for (let s = 0; s < S; s++) {
    if (rand() >= density) continue;
    const u = rand();
    votes.push({ participant: `p${p}`, statement: `s${s}`, value: u < 0.1 ? 0 : rand() < pAgree[g]![s]! ? 1 : -1 });
  }
}
return votes;
}

let moderatedOut: string[] = [];
let votes: Vote[];
if (polisDir) {
  const ex = readPolisExport(polisDir);
  moderatedOut = ex.statements.filter((s) => s.moderated < 0).map((s) => s.id);
  votes = ex.votes;
  console.log(`Polis export ${polisDir}: ${new Set(votes.map((v) => v.participant)).size} participants × ${ex.statements.length} statements, Polis found ${ex.summary["groups"]} groups`);
} else {
  votes = synthetic();
}
const maxRssMb = () => process.resourceUsage().maxRSS / 1024;
console.log(`${polisDir ? "" : `${P} participants × ${S} statements, `}${votes.length} votes; RSS after ${polisDir ? "reading" : "generation"} ${maxRssMb().toFixed(0)} MB`);

const time = <T>(f: () => T): [T, number] => {
  const t = performance.now();
  const r = f();
  return [r, (performance.now() - t) / 1000];
};
const [, tMatrix] = time(() => voteMatrix(votes));
const rssMatrix = maxRssMb();
const [groups, tGroups] = time(() => opinionGroups(votes, { seed: 42, moderatedOut }));
const rssGroups = maxRssMb();
const [bridge, tBridge] = time(() => bridgingScores(votes, { seed: 42 }));
const rssBridge = maxRssMb();
const total = tGroups + tBridge;

console.log(`baseline voteMatrix:  ${tMatrix.toFixed(2)} s, peak RSS ${rssMatrix.toFixed(0)} MB`);
console.log(
  `opinionGroups:        ${tGroups.toFixed(2)} s (${(tGroups / tMatrix).toFixed(1)}× baseline), peak RSS ${rssGroups.toFixed(0)} MB; ` +
    `k=${groups.k} (${groups.kSelection.method}) base clusters ${groups.baseClusters} sizes [${groups.groups.map((g) => g.members.length).join(", ")}] pca=${groups.pcaMethod} ` +
    `silhouettes ${groups.silhouettes.map((s) => `${s.k}:${s.silhouette.toFixed(3)}`).join(" ")}`,
);
const top = [...bridge.statements].sort((a, b) => b.intercept - a.intercept).slice(0, 100);
const shared = polisDir ? "" : `; shared statements in top 100 intercepts: ${top.filter((s) => Number(s.statement.slice(1)) % 10 === 0).length}/100`;
console.log(
  `bridgingScores:       ${tBridge.toFixed(2)} s (${(tBridge / tMatrix).toFixed(1)}× baseline), peak RSS ${rssBridge.toFixed(0)} MB${shared}`,
);
console.log(`total:                ${total.toFixed(2)} s (${(total / tMatrix).toFixed(1)}× baseline), peak RSS ${maxRssMb().toFixed(0)} MB`);
const ok = total < targetSeconds && maxRssMb() < targetMb;
console.log(`${ok ? "PASS: under" : "FAIL: over"} ${targetSeconds} s and ${targetMb} MB`);
process.exitCode = ok ? 0 : 1;
