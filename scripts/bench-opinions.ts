/**
 * Opinion analysis at scale: 10,000 participants × 1,000 statements with 5%
 * of the cells voted (~500k votes), drawn from four latent opinion groups
 * (seeded). Times and peak RSS for opinionGroups and bridgingScores, and the
 * baseline measured in the same run: building the vote matrix alone.
 * Target: total under 10 s and 1 GB.
 *
 *   node scripts/node.js --tsx scripts/bench-opinions.ts [--participants 10000] [--statements 1000] [--density 0.05]
 */
import "../src/polyfills.ts";
import { bridgingScores, opinionGroups, seededRandom, voteMatrix, type Vote } from "../src/participation/opinions.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const P = arg("participants", 10_000);
const S = arg("statements", 1_000);
const density = arg("density", 0.05);
const G = 4;

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
const maxRssMb = () => process.resourceUsage().maxRSS / 1024;
console.log(`${P} participants × ${S} statements, ${votes.length} votes; RSS after generation ${maxRssMb().toFixed(0)} MB`);

const time = <T>(f: () => T): [T, number] => {
  const t = performance.now();
  const r = f();
  return [r, (performance.now() - t) / 1000];
};
const [, tMatrix] = time(() => voteMatrix(votes));
const rssMatrix = maxRssMb();
const [groups, tGroups] = time(() => opinionGroups(votes, { seed: 42 }));
const rssGroups = maxRssMb();
const [bridge, tBridge] = time(() => bridgingScores(votes, { seed: 42 }));
const rssBridge = maxRssMb();
const total = tGroups + tBridge;

console.log(`baseline voteMatrix:  ${tMatrix.toFixed(2)} s, peak RSS ${rssMatrix.toFixed(0)} MB`);
console.log(
  `opinionGroups:        ${tGroups.toFixed(2)} s (${(tGroups / tMatrix).toFixed(1)}× baseline), peak RSS ${rssGroups.toFixed(0)} MB; ` +
    `k=${groups.k} sizes [${groups.groups.map((g) => g.members.length).join(", ")}] pca=${groups.pcaMethod} ` +
    `silhouettes ${groups.silhouettes.map((s) => `${s.k}:${s.silhouette.toFixed(3)}`).join(" ")}`,
);
const top = [...bridge.statements].sort((a, b) => b.intercept - a.intercept).slice(0, 100);
console.log(
  `bridgingScores:       ${tBridge.toFixed(2)} s (${(tBridge / tMatrix).toFixed(1)}× baseline), peak RSS ${rssBridge.toFixed(0)} MB; ` +
    `shared statements in top 100 intercepts: ${top.filter((s) => Number(s.statement.slice(1)) % 10 === 0).length}/100`,
);
console.log(`total:                ${total.toFixed(2)} s (${(total / tMatrix).toFixed(1)}× baseline), peak RSS ${maxRssMb().toFixed(0)} MB`);
const ok = total < 10 && maxRssMb() < 1024;
console.log(ok ? "PASS: under 10 s and 1 GB" : "FAIL: over 10 s or 1 GB");
process.exitCode = ok ? 0 : 1;
