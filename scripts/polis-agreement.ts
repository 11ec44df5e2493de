/**
 * How far our opinion groups agree with Polis' own on real conversations:
 * for each Polis export directory, our k, the k in its summary.csv, and the
 * adjusted Rand index between our groups and the `group-id` column of its
 * participants-votes.csv (over participants both put in a group).
 *
 *   npm run polis:agreement [-- [--verbose] [--history] [--polis-math=2017] dir ...]
 *     default: every conversation under test/fixtures/polis; --verbose adds
 *     the silhouette of each k; --history also replays each conversation's
 *     votes in time order as Polis' recomputations would (opinion-history.ts,
 *     runs every 5 minutes of votes; slow: minutes for vtaiwan) and reports
 *     its k and ARI too; --polis-math=2017 follows Polis' math as it ran
 *     before 22 October 2017 (opinions.ts, option polisMath) instead of
 *     today's, for exports whose groups were last computed then.
 */
import "../src/polyfills.ts";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { adjustedRandIndex, opinionGroups } from "../src/participation/opinions.ts";
import { opinionGroupsOverTime } from "../src/participation/opinion-history.ts";
import { readPolisExport } from "../src/participation/polis.ts";

const FIXTURES = "test/fixtures/polis";
const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const dirs = args.length > 0 ? args : readdirSync(FIXTURES).map((d) => join(FIXTURES, d)).filter((d) => existsSync(join(d, "summary.csv")) || existsSync(join(d, "summary.csv.gz")));
const verbose = process.argv.includes("--verbose");
const history = process.argv.includes("--history");
const polisMath = process.argv.includes("--polis-math=2017") ? "2017" : "current";
const unknown = process.argv.slice(2).filter((a) => a.startsWith("--") && !["--verbose", "--history", "--polis-math=2017", "--polis-math=current"].includes(a));
if (unknown.length > 0) throw new Error(`Unknown option ${unknown.join(", ")} (known: --verbose, --history, --polis-math=2017|current)`);

/** ARI between our groups and Polis' group-id, over participants both put in a group. */
function agreement(groups: { id: number; members: string[] }[], participants: { id: string; group: string | null }[]): number {
  const ours = new Map<string, number>();
  for (const g of groups) for (const p of g.members) ours.set(p, g.id);
  const both = participants.filter((p) => p.group !== null && ours.has(p.id));
  return adjustedRandIndex(both.map((p) => ours.get(p.id)!), both.map((p) => p.group!));
}

let failures = 0;
console.log(["conversation", "participants", "clustered", "our k", "Polis k", "ARI", "k by", ...(history ? ["replay k", "replay ARI", "runs"] : [])].join("\t"));
for (const dir of dirs) {
  const ex = readPolisExport(dir);
  const moderatedOut = ex.statements.filter((s) => s.moderated < 0).map((s) => s.id);
  const result = opinionGroups(ex.votes, { moderatedOut, polisMath });
  const ari = agreement(result.groups, ex.participants);
  const polisK = Number(ex.summary["groups"]);
  if (result.k !== polisK) failures++;
  const replay = history ? opinionGroupsOverTime(ex.rawVotes.map((v) => ({ ...v, timestamp: v.timestamp ?? 0 })), { moderatedOut, window: 300_000 }) : undefined;
  const replayed = replay ? [replay.k, agreement(replay.groups, ex.participants).toFixed(3), replay.kSelection.method === "history" ? replay.kSelection.recomputations : ""] : [];
  console.log([dir.split("/").filter(Boolean).pop(), ex.participants.length, result.projection.length, result.k, polisK, ari.toFixed(3), result.kSelection.method, ...replayed, verbose ? result.silhouettes.map((x) => `${x.k}:${x.silhouette.toFixed(3)}`).join(" ") : ""].join("\t"));
}
console.log(failures === 0 ? "Same number of groups as Polis on every conversation." : `Group count differs from Polis on ${failures} conversation(s).`);
process.exitCode = failures === 0 ? 0 : 1;
