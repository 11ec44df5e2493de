/**
 * How far our opinion groups agree with Polis' own on real conversations:
 * for each Polis export directory, our k, the k in its summary.csv, and the
 * adjusted Rand index between our groups and the `group-id` column of its
 * participants-votes.csv (over participants both put in a group).
 *
 *   npm run polis:agreement [-- [--verbose] dir ...]    (default: every conversation under test/fixtures/polis;
 *                                                       --verbose adds the silhouette of each k)
 */
import "../src/polyfills.ts";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { adjustedRandIndex, opinionGroups } from "../src/participation/opinions.ts";
import { readPolisExport } from "../src/participation/polis.ts";

const FIXTURES = "test/fixtures/polis";
const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const dirs = args.length > 0 ? args : readdirSync(FIXTURES).map((d) => join(FIXTURES, d)).filter((d) => existsSync(join(d, "summary.csv")) || existsSync(join(d, "summary.csv.gz")));
const verbose = process.argv.includes("--verbose");

let failures = 0;
console.log(["conversation", "participants", "clustered", "our k", "Polis k", "ARI", "k by"].join("\t"));
for (const dir of dirs) {
  const ex = readPolisExport(dir);
  const moderatedOut = ex.statements.filter((s) => s.moderated < 0).map((s) => s.id);
  const result = opinionGroups(ex.votes, { moderatedOut });
  const ours = new Map<string, number>();
  for (const g of result.groups) for (const p of g.members) ours.set(p, g.id);
  const both = ex.participants.filter((p) => p.group !== null && ours.has(p.id));
  const ari = adjustedRandIndex(both.map((p) => ours.get(p.id)!), both.map((p) => p.group!));
  const polisK = Number(ex.summary["groups"]);
  if (result.k !== polisK) failures++;
  console.log([dir.split("/").filter(Boolean).pop(), ex.participants.length, result.projection.length, result.k, polisK, ari.toFixed(3), result.kSelection.method, verbose ? result.silhouettes.map((x) => `${x.k}:${x.silhouette.toFixed(3)}`).join(" ") : ""].join("\t"));
}
console.log(failures === 0 ? "Same number of groups as Polis on every conversation." : `Group count differs from Polis on ${failures} conversation(s).`);
process.exitCode = failures === 0 ? 0 : 1;
