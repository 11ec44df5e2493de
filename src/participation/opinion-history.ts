/**
 * Opinion groups as Polis finds them over a conversation's life, not from a
 * snapshot: Polis recomputes a conversation whenever new votes arrive and
 * carries state from one run to the next (its conversation namespace's
 * update graph). Replaying the votes in time order reproduces that state:
 *
 * - participants enter the clustering once they have min(7, statements so far)
 *   votes (or are among the 15 most active while fewer qualify) and stay in;
 * - the PCA starts from the previous run's components;
 * - base clusters (100) and the groups of base clusters for each k start from
 *   the previous run's clusters, recentred on the members' new positions,
 *   with the most distant point split off while there are fewer clusters than
 *   k ("clean start"); k-means steps drop clusters left empty and stop when
 *   no centre moves by 0.01 (at most 100 steps for base clusters, 20 for
 *   groups);
 * - the k with the best silhouette must be best in 4 runs in a row before the
 *   groups switch to it (group-k-buffer).
 *
 * What cannot be known from an export is when Polis ran: runs here happen at
 * the end of each window of votes (one hour by default, widened so that there
 * are at most `maxRecomputations` runs).
 */
import {
  type OpinionGroupOptions,
  type OpinionGroupsResult,
  type Vote,
  SNAPSHOT_LIMITS,
  compareIds,
  polisKmeans,
  powerPca,
  sparsityAwareProjection,
  voteMatrix,
  columnMeans,
  moderatedOutValues,
  normaliseSign,
} from "./opinions.ts";

export interface TimedVote extends Vote {
  /** Milliseconds since the epoch. */
  timestamp: number;
}

export interface HistoryOptions extends OpinionGroupOptions {
  /** Votes arriving within this many milliseconds make one recomputation. Default one hour. */
  window?: number;
  /** Upper bound on recomputations: the window is doubled until it holds. Default 400. */
  maxRecomputations?: number;
  /** Runs a new best k must win in a row before the groups change to it (Polis' group-k-buffer). Default 4. */
  kBuffer?: number;
}

/** A clustering carried from one run to the next: members are data names (participant ids, or base-cluster ids as strings). */
interface Cluster {
  id: number;
  members: string[];
  x: number;
  y: number;
}

interface Points {
  names: string[];
  xs: Float64Array;
  ys: Float64Array;
  w: Float64Array;
}

function weightedCentre(points: Points, index: Map<string, number>, members: string[]): [number, number] | undefined {
  let sx = 0;
  let sy = 0;
  let sw = 0;
  for (const name of members) {
    const i = index.get(name);
    if (i === undefined) continue;
    sx += points.w[i]! * points.xs[i]!;
    sy += points.w[i]! * points.ys[i]!;
    sw += points.w[i]!;
  }
  return sw > 0 ? [sx / sw, sy / sw] : undefined;
}

/** The first k distinct points, as Polis' init-clusters. */
function initClusters(points: Points, k: number): Cluster[] {
  const seen = new Set<string>();
  const out: Cluster[] = [];
  for (let i = 0; i < points.names.length && out.length < k; i++) {
    const key = `${points.xs[i]},${points.ys[i]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ id: out.length, members: [], x: points.xs[i]!, y: points.ys[i]! });
  }
  return out;
}

/**
 * Polis' clean start from last run's clusters: recentre each on its members'
 * current positions (dropping those with none), merge clusters whose centres
 * coincide, then while there are fewer clusters than min(k, distinct points),
 * move the point farthest from every centre into a cluster of its own.
 */
function cleanStart(points: Points, last: Cluster[], k: number): Cluster[] {
  const index = new Map(points.names.map((n, i) => [n, i]));
  let clusters: Cluster[] = [];
  for (const c of last) {
    const members = c.members.filter((m) => index.has(m));
    const centre = weightedCentre(points, index, members);
    if (!centre) continue;
    const same = clusters.find((o) => o.x === centre[0] && o.y === centre[1]);
    if (same) same.members.push(...members);
    else clusters.push({ id: c.id, members, x: centre[0], y: centre[1] });
  }
  if (clusters.length === 0) return initClusters(points, k);
  const distinct = new Set(points.names.map((_, i) => `${points.xs[i]},${points.ys[i]}`)).size;
  const possible = Math.min(k, distinct);
  for (;;) {
    clusters = clusters.flatMap((c) => {
      const centre = weightedCentre(points, index, c.members);
      return centre ? [{ ...c, x: centre[0], y: centre[1] }] : c.members.length === 0 && c.id >= 0 ? [c] : [];
    });
    if (clusters.length >= possible) return clusters;
    let far = -1;
    let farD = -1;
    for (let i = 0; i < points.names.length; i++) {
      let d = Infinity;
      for (const c of clusters) d = Math.min(d, Math.hypot(points.xs[i]! - c.x, points.ys[i]! - c.y));
      if (d > farD) {
        farD = d;
        far = i;
      }
    }
    if (!(farD > 0)) return clusters;
    const name = points.names[far]!;
    for (const c of clusters) c.members = c.members.filter((m) => m !== name);
    clusters.push({ id: Math.max(...clusters.map((c) => c.id)) + 1, members: [name], x: points.xs[far]!, y: points.ys[far]! });
  }
}

/** Runs Polis' k-means steps from the given clusters and returns the surviving clusters with their members. */
function kmeans(points: Points, start: Cluster[], maxSteps: number): Cluster[] {
  const run = polisKmeans(points.xs, points.ys, points.w, start.map((c) => [c.x, c.y]), maxSteps);
  const clusters: Cluster[] = run.kept.map((s, j) => ({ id: start[s]!.id, members: [], x: run.cx[j]!, y: run.cy[j]! }));
  run.labels.forEach((c, i) => clusters[c]!.members.push(points.names[i]!));
  return clusters.sort((a, b) => a.id - b.id);
}

/** Distances between all pairs of points (row-major n × n). */
function distances(points: Points): Float64Array {
  const n = points.names.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) out[i * n + j] = out[j * n + i] = Math.hypot(points.xs[i]! - points.xs[j]!, points.ys[i]! - points.ys[j]!);
  }
  return out;
}

/** Mean silhouette over base clusters (unweighted, as Polis) on the distances between their centres. */
function silhouette(base: Points, dist: Float64Array, groups: Cluster[]): number {
  const n = base.names.length;
  const k = groups.length;
  const index = new Map(base.names.map((name, i) => [name, i]));
  const label = new Int32Array(n);
  groups.forEach((g, gi) => g.members.forEach((m) => (label[index.get(m)!] = gi)));
  const size = new Float64Array(k);
  for (let i = 0; i < n; i++) size[label[i]!]!++;
  let total = 0;
  const sums = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const own = label[i]!;
    if (size[own]! <= 1) continue; // a singleton scores 0
    sums.fill(0);
    for (let j = 0; j < n; j++) sums[label[j]!]! += dist[i * n + j]!;
    const a = sums[own]! / (size[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && size[c]! > 0) b = Math.min(b, sums[c]! / size[c]!);
    const mx = Math.max(a, b);
    if (Number.isFinite(b) && mx > 0) total += (b - a) / mx;
  }
  return n === 0 ? 0 : total / n;
}

/** Recomputation batches: indexes into the time-sorted votes where each run ends (exclusive). */
function batchEnds(sorted: TimedVote[], window: number, maxRuns: number): number[] {
  for (let w = window; ; w *= 2) {
    const ends: number[] = [];
    let start = sorted[0]?.timestamp ?? 0;
    for (let i = 0; i < sorted.length; i++) {
      if (sorted[i]!.timestamp >= start + w) {
        ends.push(i);
        start = sorted[i]!.timestamp;
      }
    }
    if (sorted.length > 0) ends.push(sorted.length);
    if (ends.length <= maxRuns) return ends;
  }
}

/**
 * Opinion groups of a conversation as Polis' recomputations over its votes'
 * history leave them. Every vote needs its timestamp; the result has the same
 * shape as {@link opinionGroups}' (kSelection "history").
 */
export function opinionGroupsOverTime(votes: readonly TimedVote[], options: HistoryOptions = {}): OpinionGroupsResult {
  const seed = options.seed ?? 42;
  const minVotes = options.minVotes ?? 7;
  const greedy = options.minParticipants ?? 15;
  const baseK = options.baseK ?? 100;
  const [kMin, kMax] = options.kRange ?? [2, 5];
  const buffer = options.kBuffer ?? 4;
  const sorted = votes.map((v, i) => ({ v, i })).sort((a, b) => a.v.timestamp - b.v.timestamp || a.i - b.i).map((x) => x.v);
  const ends = batchEnds(sorted, options.window ?? 3_600_000, options.maxRecomputations ?? 400);
  const moderatedOut = [...(options.moderatedOut ?? [])];

  const inConv = new Set<string>();
  let comps: Map<string, [number, number]> | undefined;
  let base: Cluster[] | undefined;
  const groupClusterings = new Map<number, Cluster[]>();
  let lastK: number | undefined;
  let lastKCount = 0;
  let smoothedK: number | undefined;
  let final: OpinionGroupsResult | undefined;

  for (let run = 0; run < ends.length; run++) {
    const last = run === ends.length - 1;
    const m = voteMatrix(sorted.slice(0, ends[run]!));
    const nP = m.participants.length;
    const d = m.statements.length;
    const count = (r: number) => m.rowPtr[r + 1]! - m.rowPtr[r]!;
    const threshold = Math.min(minVotes, d);
    for (let r = 0; r < nP; r++) if (count(r) >= threshold) inConv.add(m.participants[r]!);
    if (inConv.size < greedy) {
      const rest = [...Array(nP).keys()].filter((r) => !inConv.has(m.participants[r]!)).sort((a, b) => count(b) - count(a) || a - b);
      for (const r of rest.slice(0, greedy - inConv.size)) inConv.add(m.participants[r]!);
    }

    const { pm, out, nOut } = moderatedOutValues(m, moderatedOut);
    const means = columnMeans(pm);
    const allRows = [...Array(nP).keys()];
    const start = comps
      ? ([0, 1] as const).map((c) => Float64Array.from(m.statements, (s) => comps!.get(s)?.[c] ?? 1))
      : undefined;
    const components = powerPca(pm, allRows, means, seed, start ? [start[0]!, start[1]!] : undefined, last ? 1000 : 100);
    normaliseSign(components[0]);
    normaliseSign(components[1]);
    comps = new Map(m.statements.map((s, j) => [s, [components[0][j]!, components[1][j]!]]));

    const rows = allRows.filter((r) => inConv.has(m.participants[r]!));
    const { xs, ys } = sparsityAwareProjection(pm, rows, means, components, out, nOut, options.sparsityScaling ?? true);
    const people: Points = { names: rows.map((r) => m.participants[r]!), xs, ys, w: new Float64Array(rows.length).fill(1) };

    base = kmeans(people, base ? cleanStart(people, base, baseK) : initClusters(people, baseK), 100);
    const bases: Points = {
      names: base.map((c) => String(c.id)),
      xs: Float64Array.from(base, (c) => c.x),
      ys: Float64Array.from(base, (c) => c.y),
      w: Float64Array.from(base, (c) => c.members.length),
    };
    const cap = options.polisMaxK === false ? kMax : Math.min(kMax, 2 + Math.floor(bases.names.length / 12));
    const dist = distances(bases);
    const silhouettes: { k: number; silhouette: number }[] = [];
    let thisK: number | undefined;
    let bestScore = -Infinity;
    for (let k = kMin; k <= cap; k++) {
      const prev = groupClusterings.get(k);
      const groups = kmeans(bases, prev ? cleanStart(bases, prev, k) : initClusters(bases, k), 20);
      groupClusterings.set(k, groups);
      const score = silhouette(bases, dist, groups);
      silhouettes.push({ k, silhouette: score });
      if (score >= bestScore) {
        bestScore = score;
        thisK = k;
      }
    }
    if (thisK === undefined) continue;
    lastKCount = thisK === lastK ? lastKCount + 1 : 1;
    lastK = thisK;
    smoothedK = lastKCount >= buffer ? thisK : (smoothedK ?? thisK);

    if (!last) continue;
    const chosen = groupClusterings.get(smoothedK) ?? groupClusterings.get(thisK)!;
    const baseMembers = new Map(base.map((c) => [String(c.id), c.members]));
    const position = new Map(people.names.map((p, i) => [p, i]));
    const groups = chosen
      .map((g) => g.members.flatMap((b) => baseMembers.get(b) ?? []).sort(compareIds))
      .filter((g) => g.length > 0)
      .sort((a, b) => b.length - a.length || position.get(a[0]!)! - position.get(b[0]!)!)
      .map((members, id) => ({ id, members }));
    const groupOf = new Map(groups.flatMap((g) => g.members.map((p) => [p, g.id] as const)));
    final = {
      k: groups.length,
      groups,
      projection: people.names.map((participant, i) => ({ participant, x: xs[i]!, y: ys[i]!, group: groupOf.get(participant)! })),
      silhouettes,
      excluded: m.participants.filter((p) => !inConv.has(p)),
      statements: m.statements,
      components,
      pcaMethod: "power",
      kSelection: { method: "history", recomputations: ends.length, lastBestK: thisK, runsInARow: lastKCount },
      baseClusters: base.length,
      snapshotLimits: HISTORY_LIMITS,
    };
  }
  return (
    final ?? {
      k: 0, groups: [], projection: [], silhouettes: [], excluded: [], statements: [], components: [new Float64Array(0), new Float64Array(0)],
      pcaMethod: "power", kSelection: { method: "history", recomputations: 0, lastBestK: 0, runsInARow: 0 }, baseClusters: 0, snapshotLimits: HISTORY_LIMITS,
    }
  );
}

/** What the replay cannot know of Polis' history. */
export const HISTORY_LIMITS = [
  "Polis recomputes whenever its poller sees new votes; an export does not say when that was, so runs here happen at the end of each window of votes (one hour by default, widened to at most 400 runs).",
  "Polis' first runs start its PCA from random vectors and its k-means from the first distinct points; here the PCA starts from seeded vectors and runs to convergence on the last run.",
  SNAPSHOT_LIMITS[2]!.replace("a snapshot can only apply the vote threshold to the final votes", "the replay applies it at every run, as Polis does"),
];
