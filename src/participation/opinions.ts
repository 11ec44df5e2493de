/**
 * Opinion analysis of agree/disagree/pass votes on statements.
 *
 * - {@link opinionGroups}: opinion groups as Polis' math (its conversation
 *   and clusters namespaces) finds them — PCA of the participant × statement
 *   vote matrix to two dimensions with Polis' sparsity-aware projection,
 *   about 100 base clusters by k-means over the participants with enough
 *   votes, then groups of base clusters by k-means weighted by their sizes
 *   for k in 2..5, k chosen by silhouette.
 * - {@link statementStats}: per-statement support per group, Polis'
 *   group-informed consensus and representative statements.
 * - {@link bridgingScores}: a Community Notes style one-factor matrix
 *   factorisation whose statement intercept is the bridging score.
 *
 * A snapshot cannot carry what Polis keeps from one recomputation to the next
 * (warm starts, the group-k-buffer smoothing of k); opinion-history.ts
 * replays a conversation's timed votes to emulate that.
 *
 * Everything is deterministic for a fixed seed: ids are sorted (numerically
 * when both are numbers), and every random choice comes from a seeded PRNG.
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { PCA } from "ml-pca";
import { compareIds } from "./ids.ts";

/** 1 agree, -1 disagree, 0 pass (the sign convention of Polis exports). */
export type VoteValue = 1 | -1 | 0;

export interface Vote {
  participant: string;
  statement: string;
  value: VoteValue;
}

/**
 * Sparse participants × statements matrix in CSR form. Row i is
 * `participants[i]`; its votes are `cols[rowPtr[i]..rowPtr[i+1]]` (statement
 * indexes, ascending) with `values` at the same positions. Unvoted cells are
 * absent (missing, not pass).
 */
export interface VoteMatrix {
  participants: string[];
  statements: string[];
  rowPtr: Int32Array;
  cols: Int32Array;
  values: Int8Array;
}

export { compareIds };

/** Seeded PRNG (mulberry32), uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Builds the vote matrix. Participants and statements are sorted with
 * {@link compareIds}. When a pair is voted more than once, the vote that comes
 * last in `votes` wins (readPolisExport already keeps the latest by timestamp).
 */
export function voteMatrix(votes: Iterable<Vote>): VoteMatrix {
  const pIndex = new Map<string, number>();
  const sIndex = new Map<string, number>();
  const pi: number[] = [];
  const si: number[] = [];
  const vals: number[] = [];
  for (const v of votes) {
    let p = pIndex.get(v.participant);
    if (p === undefined) pIndex.set(v.participant, (p = pIndex.size));
    let s = sIndex.get(v.statement);
    if (s === undefined) sIndex.set(v.statement, (s = sIndex.size));
    if (v.value !== 1 && v.value !== -1 && v.value !== 0) throw new Error(`Invalid vote value ${String(v.value)}`);
    pi.push(p);
    si.push(s);
    vals.push(v.value);
  }
  const participants = [...pIndex.keys()].sort(compareIds);
  const statements = [...sIndex.keys()].sort(compareIds);
  const pRank = new Int32Array(pIndex.size);
  participants.forEach((id, r) => (pRank[pIndex.get(id)!] = r));
  const sRank = new Int32Array(sIndex.size);
  statements.forEach((id, r) => (sRank[sIndex.get(id)!] = r));

  const n = pi.length;
  const nP = participants.length;
  const nS = statements.length;
  const counts = new Int32Array(nP + 1);
  for (let k = 0; k < n; k++) counts[pRank[pi[k]!]! + 1]!++;
  for (let r = 0; r < nP; r++) counts[r + 1]! += counts[r]!;
  const fill = counts.slice(0, nP);
  const rawCol = new Int32Array(n);
  const rawVal = new Int8Array(n);
  for (let k = 0; k < n; k++) {
    const r = pRank[pi[k]!]!;
    const at = fill[r]!++;
    rawCol[at] = sRank[si[k]!]!;
    rawVal[at] = vals[k]!;
  }
  // Dedupe within each row (last occurrence wins) and sort by column.
  const stamp = new Int32Array(nS);
  const pos = new Int32Array(nS);
  const rowPtr = new Int32Array(nP + 1);
  const packed = new Int32Array(n);
  let out = 0;
  for (let r = 0; r < nP; r++) {
    const start = out;
    for (let k = counts[r]!; k < counts[r + 1]!; k++) {
      const c = rawCol[k]!;
      const code = c * 4 + (rawVal[k]! + 1);
      if (stamp[c] === r + 1) packed[pos[c]!] = code;
      else {
        stamp[c] = r + 1;
        pos[c] = out;
        packed[out++] = code;
      }
    }
    packed.subarray(start, out).sort();
    rowPtr[r + 1] = out;
  }
  const cols = new Int32Array(out);
  const values = new Int8Array(out);
  for (let k = 0; k < out; k++) {
    cols[k] = packed[k]! >> 2;
    values[k] = (packed[k]! & 3) - 1;
  }
  return { participants, statements, rowPtr, cols, values };
}

/** Dense view for small matrices and tests: rows of statement → value, `null` when unvoted. */
export function denseVotes(m: VoteMatrix): (VoteValue | null)[][] {
  return m.participants.map((_, r) => {
    const row: (VoteValue | null)[] = new Array<VoteValue | null>(m.statements.length).fill(null);
    for (let k = m.rowPtr[r]!; k < m.rowPtr[r + 1]!; k++) row[m.cols[k]!] = m.values[k] as VoteValue;
    return row;
  });
}

// ---------------------------------------------------------------------------
// Opinion groups (Polis)

export interface OpinionGroupOptions {
  /** Seed for PCA power iteration start and k-means++ initialisation. Default 42. */
  seed?: number;
  /**
   * Participants need at least min(minVotes, number of statements) votes
   * (passes count) to be clustered, as in Polis. If fewer than
   * `minParticipants` qualify, the most active participants are added up to
   * that number (Polis does the same with 15). Default 7.
   */
  minVotes?: number;
  /** Default 15. */
  minParticipants?: number;
  /** Inclusive range of k tried. Default [2, 5]. */
  kRange?: [number, number];
  /** k-means++ restarts of the group clustering per k (seeds seed, seed+1, ...); the lowest weighted inertia wins. Default 10. */
  restarts?: number;
  /**
   * Polis' sparsity-aware projection: a participant's coordinates are scaled
   * by sqrt(statements / statements they voted on), so that sparse voters are
   * not pulled towards the centre by the imputed means. Default true.
   */
  sparsityScaling?: boolean;
  /**
   * "library": ml-pca (SVD) on the dense mean-imputed matrix; "power": block
   * power iteration on the covariance using the sparse centred matrix (the
   * mean-imputed cells are exactly 0 after centring, so each product costs
   * O(votes)); "auto" (default) uses the library when participants ×
   * statements ≤ 250,000 cells.
   */
  pca?: "auto" | "library" | "power";
  /** Cap k at 2 + floor(base clusters / 12) as Polis' max-k-fn does. Default true. */
  polisMaxK?: boolean;
  /**
   * When the best and the runner-up k are a close call (mean silhouettes
   * within this margin), k is instead the one most often best when the
   * analysis is repeated with each of 10 seeded folds of participants left
   * out. Polis guards the same choice over time (a new k must win four
   * recomputations in a row); a single snapshot has no such history, so we
   * ask whether the choice survives small changes in who took part.
   * Default 0.02; 0 turns it off.
   */
  closeCallMargin?: number;
  /**
   * Statements moderated out. Their votes count towards a participant's
   * number of votes (Polis counts them in its raw matrix) and the statements
   * towards the sparsity scaling, but their votes carry no opinion (Polis
   * zeroes the column). Without this, pass only the votes on shown statements.
   */
  moderatedOut?: Iterable<string>;
  /** Base clusters (Polis' base-k). Default 100. */
  baseK?: number;
  /** Initial centres of the base clusters: "polis" (default) is Polis' cold start, see {@link polisRowOrder}; "kmeans++" seeded k-means++. */
  baseInit?: "polis" | "kmeans++";
  /**
   * Initial centres of the groups: "polis" as Polis' cold start,
   * the first k distinct base-cluster centres in base-cluster order, one
   * weighted k-means run of at most 20 steps; "kmeans++": seeded weighted
   * k-means++ with `restarts`, the lowest inertia wins (default: a snapshot
   * has no earlier run to start from, and Polis' cold start is a poor local
   * optimum as often as not).
   */
  groupInit?: "polis" | "kmeans++";
  /**
   * The silhouette that chooses k, on the distances between base-cluster
   * centres: "unweighted" (default) is Polis' plain mean over base clusters;
   * "weighted" counts each base cluster by its size (as if computed over
   * participants).
   */
  silhouetteWeighting?: "weighted" | "unweighted";
  /**
   * Which version of Polis' math to follow. "current" (default): Polis since
   * 22 October 2017. "2017": Polis as it ran before, for exports whose groups
   * were last computed then (Polis recomputes a conversation only when votes
   * or moderation change, so an export whose last vote predates that day
   * holds groups from this math, unless its moderation changed later). Three
   * things differ: missing votes are imputed as 0 rather than the
   * statement's mean (the centre is then each statement's sum of votes over
   * all participants); a participant's number of votes, for the vote
   * threshold, is counted on the matrix with moderated-out columns zeroed,
   * so every statement moderated out counts as voted for everyone; and base
   * clusters get at most 20 k-means steps (Polis passed its 100 under a key
   * its k-means ignored until December 2017).
   */
  polisMath?: "current" | "2017";
}

/** How k was chosen: the best silhouette, or (on a close call) the modal best k over leave-one-fold-out runs. */
export type KSelection =
  | { method: "silhouette" }
  | { method: "stability"; foldKs: number[] }
  /** Replayed over the votes' history (opinion-history.ts): the best k of the last run, and how many runs in a row it was best. */
  | { method: "history"; recomputations: number; lastBestK: number; runsInARow: number };

export interface OpinionGroup {
  id: number;
  members: string[];
}

export interface ProjectedParticipant {
  participant: string;
  x: number;
  y: number;
  group: number;
}

export interface OpinionGroupsResult {
  k: number;
  /** Sorted by size, largest first; ids are 0..k-1 in that order. */
  groups: OpinionGroup[];
  /** Clustered participants only, in id order. */
  projection: ProjectedParticipant[];
  /** Mean silhouette for each k tried. */
  silhouettes: { k: number; silhouette: number }[];
  /** Participants left out for having too few votes. */
  excluded: string[];
  /** Statement ids, in the order of the PCA loadings. */
  statements: string[];
  /** The two principal components' loadings per statement (sign: largest |loading| positive). */
  components: [Float64Array, Float64Array];
  pcaMethod: "library" | "power";
  kSelection: KSelection;
  /** Number of base clusters the groups are made of. */
  baseClusters: number;
  /** What a single snapshot cannot reproduce of Polis' history-dependent computation. */
  snapshotLimits: string[];
}

/**
 * Polis recomputes a conversation as votes arrive and carries state from one
 * run to the next; a snapshot starts cold. Reported with every result.
 */
export const SNAPSHOT_LIMITS = [
  "Polis changes k only after a new k has been best in 4 recomputations in a row (group-k-smoother); a snapshot has no past runs, so close calls are settled by the stability rule instead (kSelection).",
  "Polis warm-starts base and group clusters and the PCA from the previous run; here base clusters start as Polis' cold start does (the first distinct projections in the order of its rating matrix, by first statement voted on) and groups from seeded k-means++ with restarts.",
  "Polis keeps a participant in the clustering once they qualified (including the most active 15 taken early in a conversation); a snapshot can only apply the vote threshold to the final votes.",
];

function moderatedOutMask(m: VoteMatrix, ids: Iterable<string> | undefined): Uint8Array {
  const mask = new Uint8Array(m.statements.length);
  if (ids === undefined) return mask;
  const index = new Map(m.statements.map((id, j) => [id, j]));
  for (const id of ids) {
    const j = index.get(id);
    if (j !== undefined) mask[j] = 1;
  }
  return mask;
}

/**
 * Selects clustered participants (row indexes) by Polis' vote threshold.
 * Votes are counted as Polis does now (every vote, on any statement), or as
 * it did before 22 October 2017 (`moderated`: on the matrix whose
 * moderated-out columns are zeroed for everyone, so votes on those
 * statements are replaced by one "vote" per statement moderated out).
 */
function selectParticipants(m: VoteMatrix, minVotes: number, minParticipants: number, moderated?: { out: Uint8Array; nOut: number }): number[] {
  const threshold = Math.min(minVotes, m.statements.length);
  const nP = m.participants.length;
  const count = (r: number) => {
    const all = m.rowPtr[r + 1]! - m.rowPtr[r]!;
    if (moderated === undefined || moderated.nOut === 0) return all;
    let onOut = 0;
    for (let k = m.rowPtr[r]!; k < m.rowPtr[r + 1]!; k++) onOut += moderated.out[m.cols[k]!]!;
    return all - onOut + moderated.nOut;
  };
  const chosen: number[] = [];
  for (let r = 0; r < nP; r++) if (count(r) >= threshold) chosen.push(r);
  if (chosen.length < minParticipants) {
    const inSet = new Set(chosen);
    const rest = [...Array(nP).keys()].filter((r) => !inSet.has(r)).sort((a, b) => count(b) - count(a) || a - b);
    for (const r of rest) {
      if (chosen.length >= minParticipants || count(r) === 0) break;
      chosen.push(r);
    }
    chosen.sort((a, b) => a - b);
  }
  return chosen;
}

/** @internal Flips v so that its largest |entry| is positive. */
export function normaliseSign(v: Float64Array): void {
  let best = 0;
  for (let i = 0; i < v.length; i++) if (Math.abs(v[i]!) > Math.abs(best)) best = v[i]!;
  if (best < 0) for (let i = 0; i < v.length; i++) v[i] = -v[i]!;
}

/**
 * Top two eigenvectors of XᵀX for the sparse centred matrix X (rows `rows`
 * of m, value − column mean at voted cells, 0 elsewhere) by subspace
 * iteration on a block of four vectors: each step multiplies the block by XᵀX
 * (one pass over the votes), orthonormalises it, and rotates it onto the
 * Ritz vectors of the 4×4 projected matrix (ml-matrix's symmetric eigen
 * decomposition). With four vectors the top two converge at the rate
 * λ₅/λ₂ rather than λ₃/λ₂, which matters when there are three or more
 * opinion groups (two power-iteration vectors needed ~240 passes on the
 * 100,000 × 2,000 bench, the block of four a few dozen). Stops when both
 * leading Ritz vectors move by less than about 1e-5 in angle, or after
 * `maxIterations` steps. `start` warm-starts the first two vectors (Polis
 * starts each run from the previous run's components).
 */
export function powerPca(
  m: VoteMatrix,
  rows: number[],
  means: Float64Array,
  seed: number,
  start?: [Float64Array, Float64Array],
  maxIterations = 1000,
  zeroFilled = false,
): [Float64Array, Float64Array] {
  const d = m.statements.length;
  const b = Math.max(1, Math.min(4, d));
  const rand = seededRandom(seed);
  const V = Array.from({ length: b }, () => Float64Array.from({ length: d }, () => rand() - 0.5));
  start?.forEach((v, c) => {
    if (c < b && v.length === d && v.some((x) => x !== 0)) V[c]!.set(v);
  });
  // Centred values at the voted cells, computed once. With the mean imputed,
  // unvoted cells are exactly 0 after centring. With 0 imputed (zeroFilled),
  // X = S − 1 meansᵀ for the sparse votes S, and since Sᵀ1 = n·means (means
  // being the column sums over these rows divided by n), XᵀX v = SᵀS v −
  // n·means·(meansᵀv): the sparse product plus a rank-one correction.
  const centred = new Float64Array(m.values.length);
  for (const r of rows) for (let k = m.rowPtr[r]!; k < m.rowPtr[r + 1]!; k++) centred[k] = zeroFilled ? m.values[k]! : m.values[k]! - means[m.cols[k]!]!;
  const W = Array.from({ length: b }, () => new Float64Array(d));
  const proj = new Float64Array(b);
  const multiply = (): void => {
    // W = Xᵀ (X V), one pass over the rows for the whole block.
    for (const w of W) w.fill(0);
    for (const r of rows) {
      const from = m.rowPtr[r]!;
      const to = m.rowPtr[r + 1]!;
      proj.fill(0);
      for (let k = from; k < to; k++) {
        const c = m.cols[k]!;
        const x = centred[k]!;
        for (let q = 0; q < b; q++) proj[q]! += x * V[q]![c]!;
      }
      for (let k = from; k < to; k++) {
        const c = m.cols[k]!;
        const x = centred[k]!;
        for (let q = 0; q < b; q++) W[q]![c]! += x * proj[q]!;
      }
    }
    if (zeroFilled) {
      for (let q = 0; q < b; q++) {
        const t = rows.length * dot(means, V[q]!);
        for (let j = 0; j < d; j++) W[q]![j] = W[q]![j]! - t * means[j]!;
      }
    }
  };
  const dot = (x: Float64Array, y: Float64Array) => {
    let t = 0;
    for (let j = 0; j < x.length; j++) t += x[j]! * y[j]!;
    return t;
  };
  /** Modified Gram–Schmidt in place; a vector that vanishes is replaced by a seeded random one. */
  const orthonormalise = (Q: Float64Array[]): void => {
    for (let q = 0; q < Q.length; q++) {
      for (let attempt = 0; attempt < 3; attempt++) {
        for (let p = 0; p < q; p++) {
          const c = dot(Q[p]!, Q[q]!);
          for (let j = 0; j < d; j++) Q[q]![j] = Q[q]![j]! - c * Q[p]![j]!;
        }
        const n = Math.sqrt(dot(Q[q]!, Q[q]!));
        if (n > 1e-300) {
          for (let j = 0; j < d; j++) Q[q]![j] = Q[q]![j]! / n;
          break;
        }
        for (let j = 0; j < d; j++) Q[q]![j] = rand() - 0.5;
      }
    }
  };
  /** Rotates V and W = XᵀXV by the eigenvectors of VᵀXᵀXV (largest first): V becomes the Ritz vectors, W XᵀX times them. */
  const rayleighRitz = (): void => {
    const H = new Matrix(b, b);
    for (let p = 0; p < b; p++) for (let q = 0; q < b; q++) H.set(p, q, (dot(V[p]!, W[q]!) + dot(V[q]!, W[p]!)) / 2);
    const evd = new EigenvalueDecomposition(H, { assumeSymmetric: true });
    const order = evd.realEigenvalues.map((v, i) => [v, i] as const).sort((x, y) => y[0] - x[0]).map(([, i]) => i);
    const U = evd.eigenvectorMatrix;
    for (const block of [V, W]) {
      const rotated = order.map((i) => {
        const out = new Float64Array(d);
        for (let p = 0; p < b; p++) {
          const c = U.get(p, i);
          for (let j = 0; j < d; j++) out[j] = out[j]! + c * block[p]![j]!;
        }
        return out;
      });
      rotated.forEach((v, q) => block[q]!.set(v));
    }
  };
  orthonormalise(V);
  const ritz = [new Float64Array(d), new Float64Array(d)];
  for (let it = 0; it < maxIterations; it++) {
    multiply();
    rayleighRitz();
    const moved = it === 0 || [0, 1].some((q) => q < b && 1 - Math.abs(dot(V[q]!, ritz[q]!)) > 1e-10);
    for (let q = 0; q < Math.min(2, b); q++) ritz[q]!.set(V[q]!);
    if (!moved) break;
    // Next block: XᵀX times the Ritz vectors, orthonormalised.
    for (let q = 0; q < b; q++) V[q]!.set(W[q]!);
    orthonormalise(V);
  }
  return [ritz[0]!, ritz[1]!];
}

/** ml-pca on the dense matrix, missing votes imputed by `means` or, when `zeroFilled`, by 0 (Polis before 22 October 2017). */
function libraryPca(m: VoteMatrix, rows: number[], means: Float64Array, zeroFilled = false): [Float64Array, Float64Array] {
  const d = m.statements.length;
  const data = new Matrix(rows.length, d);
  rows.forEach((r, i) => {
    if (!zeroFilled) for (let j = 0; j < d; j++) data.set(i, j, means[j]!);
    for (let k = m.rowPtr[r]!; k < m.rowPtr[r + 1]!; k++) data.set(i, m.cols[k]!, m.values[k]!);
  });
  const pca = new PCA(data, { center: true, scale: false });
  const U = pca.getEigenvectors();
  const e0 = new Float64Array(d);
  const e1 = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    e0[j] = U.columns > 0 ? U.get(j, 0) : 0;
    e1[j] = U.columns > 1 ? U.get(j, 1) : 0;
  }
  return [e0, e1];
}

/**
 * @internal Polis' rating matrix: votes on statements moderated out become 0
 * for everyone (the column is zeroed, so every participant counts as having
 * voted on it). Returns the values to use, the mask and its size.
 */
export function moderatedOutValues(m: VoteMatrix, ids: Iterable<string> | undefined): { pm: VoteMatrix; out: Uint8Array; nOut: number } {
  const out = moderatedOutMask(m, ids);
  const nOut = out.reduce((a, b) => a + b, 0);
  const pm: VoteMatrix = nOut === 0 ? m : { ...m, values: Int8Array.from(m.values, (v, k) => (out[m.cols[k]!] ? 0 : v)) };
  return { pm, out, nOut };
}

/** @internal Column means over every participant's votes (pass = 0): Polis imputes them for missing votes. */
export function columnMeans(m: VoteMatrix): Float64Array {
  const d = m.statements.length;
  const sum = new Float64Array(d);
  const cnt = new Float64Array(d);
  for (let k = 0; k < m.cols.length; k++) {
    sum[m.cols[k]!]! += m.values[k]!;
    cnt[m.cols[k]!]!++;
  }
  const means = new Float64Array(d);
  for (let j = 0; j < d; j++) means[j] = cnt[j]! > 0 ? sum[j]! / cnt[j]! : 0;
  return means;
}

/** @internal Column sums over every participant (pass = 0, missing = 0) divided by the number of participants: the centre of the matrix with 0 imputed for missing votes (Polis before 22 October 2017). */
export function zeroImputedMeans(m: VoteMatrix): Float64Array {
  const d = m.statements.length;
  const means = new Float64Array(d);
  const n = m.participants.length;
  if (n === 0) return means;
  for (let k = 0; k < m.cols.length; k++) means[m.cols[k]!]! += m.values[k]!;
  for (let j = 0; j < d; j++) means[j] = means[j]! / n;
  return means;
}

/**
 * @internal Polis' sparsity-aware projection of the participants `rows`: the
 * centred votes (missing cells contribute 0, i.e. the imputed mean) times the
 * components, scaled by sqrt(statements / statements voted on, moderated-out
 * ones counting as voted) so that sparse voters are not pulled to the centre.
 */
export function sparsityAwareProjection(
  pm: VoteMatrix,
  rows: number[],
  means: Float64Array,
  components: [Float64Array, Float64Array],
  out: Uint8Array,
  nOut: number,
  scaling: boolean,
): { xs: Float64Array; ys: Float64Array } {
  const d = pm.statements.length;
  const xs = new Float64Array(rows.length);
  const ys = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    let x = 0;
    let y = 0;
    let voted = nOut;
    for (let k = pm.rowPtr[r]!; k < pm.rowPtr[r + 1]!; k++) {
      const c = pm.cols[k]!;
      if (out[c]) continue;
      voted++;
      const v = pm.values[k]! - means[c]!;
      x += v * components[0][c]!;
      y += v * components[1][c]!;
    }
    const s = scaling && voted > 0 ? Math.sqrt(d / voted) : 1;
    xs[i] = x * s;
    ys[i] = y * s;
  });
  return { xs, ys };
}

/** Finds opinion groups as Polis does (see {@link OpinionGroupOptions} for each step). */
export function opinionGroups(votes: Iterable<Vote> | VoteMatrix, options: OpinionGroupOptions = {}): OpinionGroupsResult {
  const seed = options.seed ?? 42;
  const [kMin, kMax] = options.kRange ?? [2, 5];
  const restarts = options.restarts ?? 10;
  const m = isVoteMatrix(votes) ? votes : voteMatrix(votes);
  const polis2017 = options.polisMath === "2017";
  // Statements moderated out stay in the matrix as Polis keeps them: the
  // column is zeroed for everyone, so it adds nothing to the PCA but counts,
  // for every participant, as a statement seen (in the sparsity scaling).
  const { pm, out, nOut } = moderatedOutValues(m, options.moderatedOut);
  const rows = selectParticipants(m, options.minVotes ?? 7, options.minParticipants ?? 15, polis2017 ? { out, nOut } : undefined);
  const chosen = new Set(rows);
  const excluded = m.participants.filter((_, r) => !chosen.has(r));
  const d = m.statements.length;
  const n = rows.length;

  // Column means over all participants' votes (pass = 0), imputed for missing
  // cells (Polis before 22 October 2017: 0 imputed, so the centre is the
  // column's sum over all participants); PCA is fitted on every participant
  // who voted (as Polis, whose rating matrix holds everyone), clustering uses
  // the selected ones only.
  const allRows = [...Array(m.participants.length).keys()];
  const means = polis2017 ? zeroImputedMeans(pm) : columnMeans(pm);

  const method = options.pca === "library" || options.pca === "power" ? options.pca : m.participants.length * d <= 250_000 ? "library" : "power";
  const components = method === "library" ? libraryPca(pm, allRows, means, polis2017) : powerPca(pm, allRows, means, seed, undefined, 1000, polis2017);
  normaliseSign(components[0]);
  normaliseSign(components[1]);

  const { xs, ys } = sparsityAwareProjection(pm, rows, means, components, out, nOut, options.sparsityScaling ?? true);

  // Base clusters (Polis: about 100, by k-means on the projections), then
  // groups of base clusters by k-means weighted by their sizes, k by silhouette.
  const base = baseClusters(xs, ys, options.baseK ?? 100, options.baseInit ?? "polis", seed, polisRowOrder(m, rows), polis2017 ? 20 : 100);
  const nBase = base.size.length;
  const silhouettes: { k: number; silhouette: number }[] = [];
  const runs = new Map<number, { labels: Int32Array; score: number }>();
  let best: { k: number; labels: Int32Array; score: number } | undefined;
  // Polis caps k by the number of base clusters: min(max-k, 2 + floor(nBase / 12)).
  const cap = options.polisMaxK === false ? kMax : Math.min(kMax, 2 + Math.floor(nBase / 12));
  for (let k = kMin; k <= Math.min(cap, nBase - 1); k++) {
    const baseLabels = options.groupInit === "polis" ? polisGroupBaseClusters(base, k) : groupBaseClusters(base, k, seed, restarts);
    const score = baseSilhouette(base, baseLabels, k, options.silhouetteWeighting === "weighted");
    const labels = Int32Array.from(base.labels, (b) => baseLabels[b]!);
    silhouettes.push({ k, silhouette: score });
    runs.set(k, { labels, score });
    if (best === undefined || score > best.score + 1e-12) best = { k, labels, score };
  }

  let kSelection: KSelection = { method: "silhouette" };
  const margin = options.closeCallMargin ?? 0.02;
  if (best && margin > 0 && isCloseCall(silhouettes, best.k, margin)) {
    const foldKs = kAcrossFolds(m, rows, options);
    const chosen = modalK(foldKs, best.k);
    kSelection = { method: "stability", foldKs };
    const run = runs.get(chosen);
    if (run) best = { k: chosen, ...run };
  }

  // Relabel: largest group first, ties by first member.
  const k = best?.k ?? 1;
  const labels = best?.labels ?? new Int32Array(n);
  const members: number[][] = Array.from({ length: k }, () => []);
  labels.forEach((c, i) => members[c]!.push(i));
  const order = [...members.keys()]
    .filter((c) => members[c]!.length > 0)
    .sort((a, b) => members[b]!.length - members[a]!.length || members[a]![0]! - members[b]![0]!);
  const relabel = new Int32Array(k).fill(-1);
  order.forEach((c, id) => (relabel[c] = id));
  const groups = order.map((c, id) => ({ id, members: members[c]!.map((i) => m.participants[rows[i]!]!) }));
  const projection = rows.map((r, i) => ({
    participant: m.participants[r]!,
    x: xs[i]!,
    y: ys[i]!,
    group: relabel[labels[i]!]!,
  }));
  return { k: groups.length, groups, projection, silhouettes, excluded, statements: m.statements, components, pcaMethod: method, kSelection, baseClusters: nBase, snapshotLimits: SNAPSHOT_LIMITS };
}

const STABILITY_FOLDS = 10;

interface BaseClusterSet {
  /** Base cluster of each clustered participant. */
  labels: Int32Array;
  cx: Float64Array;
  cy: Float64Array;
  /** Members per base cluster (the weights of the group clustering). */
  size: Float64Array;
}

/**
 * @internal The order of the clustered participants (indexes into `rows`) in
 * Polis' rating matrix when a conversation is computed from scratch: Polis
 * reads the votes ordered by statement, then participant, and adds a row for
 * each participant when their first vote comes up, so rows go by the first
 * statement a participant voted on (any vote, moderated out or not), then by
 * participant id. Polis' cold start seeds the base clusters from the first
 * distinct projections in this order.
 */
export function polisRowOrder(m: VoteMatrix, rows: number[]): number[] {
  const d = m.statements.length;
  const first = rows.map((r) => (m.rowPtr[r + 1]! > m.rowPtr[r]! ? m.cols[m.rowPtr[r]!]! : d));
  return rows.map((_, i) => i).sort((a, b) => first[a]! - first[b]! || rows[a]! - rows[b]!);
}

/**
 * Polis' base clusters: k-means with k = min(baseK, distinct points) on the
 * participants' projections. "polis" is Polis' cold start (init-clusters):
 * the first k distinct points in `order` (Polis' row order, see
 * {@link polisRowOrder}), then Polis' k-means steps (clusters left empty are
 * dropped; at most `maxSteps` (100) steps, stopping once no centre moves by 0.01);
 * "kmeans++" starts from seeded k-means++ and runs Lloyd steps. Base clusters
 * are numbered in the order of their starting centres, as Polis sorts them by
 * id before clustering them into groups.
 */
function baseClusters(xs: Float64Array, ys: Float64Array, baseK: number, init: "polis" | "kmeans++", seed: number, order: number[], maxSteps: number): BaseClusterSet {
  const n = xs.length;
  const seen = new Map<string, number>();
  const distinct: number[][] = [];
  for (const i of order) {
    const key = `${xs[i]!},${ys[i]!}`;
    if (seen.has(key)) continue;
    seen.set(key, distinct.length);
    distinct.push([xs[i]!, ys[i]!]);
  }
  const k = Math.min(baseK, distinct.length);
  let labels: Int32Array;
  if (k === distinct.length) {
    // Every distinct point is its own base cluster.
    labels = Int32Array.from({ length: n }, (_, i) => seen.get(`${xs[i]!},${ys[i]!}`)!);
  } else if (init === "polis") {
    labels = polisKmeans(xs, ys, new Float64Array(n).fill(1), distinct.slice(0, k), maxSteps).labels;
  } else {
    labels = lloyd(xs, ys, new Float64Array(n).fill(1), kmeansPlusPlus(xs, ys, new Float64Array(n).fill(1), k, seededRandom(seed)), 100);
  }
  const used = new Int32Array(k).fill(-1);
  for (let i = 0; i < n; i++) used[labels[i]!] = 0;
  let nb = 0;
  for (let c = 0; c < k; c++) if (used[c] === 0) used[c] = nb++;
  const cx = new Float64Array(nb);
  const cy = new Float64Array(nb);
  const size = new Float64Array(nb);
  for (let i = 0; i < n; i++) {
    const b = (labels[i] = used[labels[i]!]!);
    cx[b]! += xs[i]!;
    cy[b]! += ys[i]!;
    size[b]!++;
  }
  for (let b = 0; b < nb; b++) {
    cx[b] = cx[b]! / size[b]!;
    cy[b] = cy[b]! / size[b]!;
  }
  return { labels, cx, cy, size };
}

/**
 * Weighted k-means (Lloyd) in two dimensions on typed arrays: ml-kmeans has
 * no weights, and its array-of-arrays steps are too slow for 100,000
 * participants against 100 centres. Stops when no assignment changes or
 * after `maxIterations`. Returns each point's centre.
 */
function lloyd(xs: Float64Array, ys: Float64Array, w: Float64Array, start: number[][], maxIterations: number): Int32Array {
  const n = xs.length;
  const k = start.length;
  const cx = Float64Array.from(start, (c) => c[0]!);
  const cy = Float64Array.from(start, (c) => c[1]!);
  const labels = new Int32Array(n).fill(-1);
  const sx = new Float64Array(k);
  const sy = new Float64Array(k);
  const sw = new Float64Array(k);
  for (let it = 0; it < maxIterations; it++) {
    let changed = false;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const dx = xs[i]! - cx[c]!;
        const dy = ys[i]! - cy[c]!;
        const d = dx * dx + dy * dy;
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      if (labels[i] !== best) {
        labels[i] = best;
        changed = true;
      }
    }
    if (!changed) break;
    sx.fill(0);
    sy.fill(0);
    sw.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i]!;
      sx[c]! += w[i]! * xs[i]!;
      sy[c]! += w[i]! * ys[i]!;
      sw[c]! += w[i]!;
    }
    // An emptied centre stays where it was (as ml-kmeans does; Polis drops
    // it instead, which polisKmeans below follows).
    for (let c = 0; c < k; c++) {
      if (sw[c]! > 0) {
        cx[c] = sx[c]! / sw[c]!;
        cy[c] = sy[c]! / sw[c]!;
      }
    }
  }
  return labels;
}

/** Weighted k-means++ seeding: each next centre drawn with probability ∝ weight × squared distance to the nearest chosen one. */
function kmeansPlusPlus(xs: Float64Array, ys: Float64Array, w: Float64Array, k: number, rand: () => number): number[][] {
  const n = xs.length;
  const pick = (score: (i: number) => number): number => {
    let total = 0;
    for (let i = 0; i < n; i++) total += score(i);
    let r = rand() * total;
    for (let i = 0; i < n; i++) {
      r -= score(i);
      if (r < 0) return i;
    }
    return n - 1;
  };
  const d2 = new Float64Array(n).fill(Infinity);
  const centres: number[][] = [];
  let next = pick((i) => w[i]!);
  for (let c = 0; c < k; c++) {
    centres.push([xs[next]!, ys[next]!]);
    for (let i = 0; i < n; i++) d2[i] = Math.min(d2[i]!, (xs[i]! - xs[next]!) ** 2 + (ys[i]! - ys[next]!) ** 2);
    if (c + 1 < k) next = pick((i) => w[i]! * d2[i]!);
  }
  return centres;
}

/**
 * Polis' cold start of the group clustering: centres start at the first k
 * distinct base-cluster centres (base clusters in id order), then weighted
 * k-means steps in which a group left empty is dropped, stopping when no
 * centre moves by 0.01 or more, or after 20 steps (the iteration default of
 * Polis' kmeans, which its group clustering ends up using).
 */
function polisGroupBaseClusters(base: BaseClusterSet, k: number): Int32Array {
  const seen = new Set<string>();
  const start: number[][] = [];
  for (let b = 0; b < base.size.length && start.length < k; b++) {
    const key = `${base.cx[b]},${base.cy[b]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    start.push([base.cx[b]!, base.cy[b]!]);
  }
  return polisKmeans(base.cx, base.cy, base.size, start, 20).labels;
}

/**
 * k-means as Polis' clusters namespace runs it: each step assigns every point
 * to its nearest centre, drops centres left without members and moves the
 * others to the (weighted) mean of their members; it stops after the step in
 * which no centre moved by 0.01 or more, or after maxSteps + 1 steps. Labels
 * index the surviving centres in their original order.
 */
export function polisKmeans(
  xs: Float64Array,
  ys: Float64Array,
  w: Float64Array,
  start: number[][],
  maxSteps: number,
): { labels: Int32Array; kept: number[]; cx: Float64Array; cy: Float64Array } {
  const n = xs.length;
  let cx = Float64Array.from(start, (c) => c[0]!);
  let cy = Float64Array.from(start, (c) => c[1]!);
  let labels = new Int32Array(n);
  let kept = start.map((_, i) => i);
  for (let step = 0; step <= maxSteps; step++) {
    const k = cx.length;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      const x = xs[i]!;
      const y = ys[i]!;
      for (let c = 0; c < k; c++) {
        const dx = x - cx[c]!;
        const dy = y - cy[c]!;
        const d = dx * dx + dy * dy;
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      labels[i] = best;
    }
    const sx = new Float64Array(k);
    const sy = new Float64Array(k);
    const sw = new Float64Array(k);
    const members = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      const c = labels[i]!;
      sx[c]! += w[i]! * xs[i]!;
      sy[c]! += w[i]! * ys[i]!;
      sw[c]! += w[i]!;
      members[c]!++;
    }
    const keep: number[] = [];
    for (let c = 0; c < k; c++) if (members[c]! > 0) keep.push(c);
    const nx = Float64Array.from(keep, (c) => (sw[c]! > 0 ? sx[c]! / sw[c]! : cx[c]!));
    const ny = Float64Array.from(keep, (c) => (sw[c]! > 0 ? sy[c]! / sw[c]! : cy[c]!));
    const moved = keep.some((c, j) => Math.hypot(nx[j]! - cx[c]!, ny[j]! - cy[c]!) >= 0.01) || keep.length !== k;
    if (keep.length !== k) {
      const remap = new Int32Array(k).fill(-1);
      keep.forEach((c, j) => (remap[c] = j));
      labels = Int32Array.from(labels, (c) => remap[c]!);
      kept = keep.map((c) => kept[c]!);
    }
    cx = nx;
    cy = ny;
    if (!moved) break;
  }
  return { labels, kept, cx, cy };
}

/**
 * Groups of base clusters: k-means weighted by base-cluster size (Polis'
 * group clustering), seeded weighted k-means++ with restarts; the lowest
 * weighted inertia wins. Returns the group of each base cluster.
 */
function groupBaseClusters(base: BaseClusterSet, k: number, seed: number, restarts: number): Int32Array {
  let bestRun: { labels: Int32Array; inertia: number } | undefined;
  for (let t = 0; t < restarts; t++) {
    const centres = kmeansPlusPlus(base.cx, base.cy, base.size, k, seededRandom(seed + t));
    const labels = lloyd(base.cx, base.cy, base.size, centres, 300);
    const inertia = weightedInertia(base, labels, k);
    if (bestRun === undefined || inertia < bestRun.inertia - 1e-12) bestRun = { labels, inertia };
  }
  return bestRun!.labels;
}

function weightedInertia(base: BaseClusterSet, labels: Int32Array, k: number): number {
  const sx = new Float64Array(k);
  const sy = new Float64Array(k);
  const sw = new Float64Array(k);
  labels.forEach((c, b) => {
    sx[c]! += base.size[b]! * base.cx[b]!;
    sy[c]! += base.size[b]! * base.cy[b]!;
    sw[c]! += base.size[b]!;
  });
  let inertia = 0;
  labels.forEach((c, b) => {
    inertia += base.size[b]! * ((base.cx[b]! - sx[c]! / sw[c]!) ** 2 + (base.cy[b]! - sy[c]! / sw[c]!) ** 2);
  });
  return inertia;
}

/**
 * Silhouette of a grouping of base clusters on the distances between their
 * centres (as Polis' bucket-dists). Weighted: as if every participant stood
 * at their base cluster's centre (each base cluster counts by its size);
 * unweighted: Polis' plain mean over base clusters.
 */
function baseSilhouette(base: BaseClusterSet, labels: Int32Array, k: number, weighted: boolean): number {
  const nb = base.size.length;
  const w = weighted ? base.size : new Float64Array(nb).fill(1);
  const groupW = new Float64Array(k);
  for (let b = 0; b < nb; b++) groupW[labels[b]!]! += w[b]!;
  const sums = new Float64Array(k);
  let total = 0;
  let weight = 0;
  for (let i = 0; i < nb; i++) {
    sums.fill(0);
    for (let j = 0; j < nb; j++) {
      if (j === i) continue;
      sums[labels[j]!]! += w[j]! * Math.hypot(base.cx[j]! - base.cx[i]!, base.cy[j]! - base.cy[i]!);
    }
    weight += w[i]!;
    const own = labels[i]!;
    const others = groupW[own]! - 1; // the other members at i's own centre are at distance 0
    if (others <= 0) continue; // a singleton scores 0
    const a = sums[own]! / others;
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && groupW[c]! > 0) b = Math.min(b, sums[c]! / groupW[c]!);
    const mx = Math.max(a, b);
    if (Number.isFinite(b) && mx > 0) total += (w[i]! * (b - a)) / mx;
  }
  return weight === 0 ? 0 : total / weight;
}

function isCloseCall(silhouettes: { k: number; silhouette: number }[], bestK: number, margin: number): boolean {
  const bestScore = silhouettes.find((s) => s.k === bestK)!.silhouette;
  return silhouettes.some((s) => s.k !== bestK && bestScore - s.silhouette < margin);
}

/** The best k of the analysis re-run with each seeded fold of the clustered participants left out. */
function kAcrossFolds(m: VoteMatrix, rows: number[], options: OpinionGroupOptions): number[] {
  const rand = seededRandom((options.seed ?? 42) ^ 0x2545f491);
  const foldOf = new Map(rows.map((r) => [r, Math.floor(rand() * STABILITY_FOLDS)]));
  const ks: number[] = [];
  for (let fold = 0; fold < STABILITY_FOLDS; fold++) {
    const kept = [...Array(m.participants.length).keys()].filter((r) => foldOf.get(r) !== fold);
    if (kept.length === m.participants.length) continue;
    ks.push(opinionGroups(subMatrix(m, kept), { ...options, closeCallMargin: 0 }).k);
  }
  return ks;
}

/** The most frequent k; a tie goes to the full data's choice if it is among the tied, else to the smaller k. */
function modalK(ks: number[], fullDataK: number): number {
  const counts = new Map<number, number>();
  for (const k of ks) counts.set(k, (counts.get(k) ?? 0) + 1);
  const top = Math.max(0, ...counts.values());
  const tied = [...counts.keys()].filter((k) => counts.get(k) === top).sort((a, b) => a - b);
  if (tied.length === 0 || tied.includes(fullDataK)) return fullDataK;
  return tied[0]!;
}

/** The rows `kept` of m, as a matrix of their own (statements unchanged). */
function subMatrix(m: VoteMatrix, kept: number[]): VoteMatrix {
  const rowPtr = new Int32Array(kept.length + 1);
  kept.forEach((r, i) => (rowPtr[i + 1] = rowPtr[i]! + (m.rowPtr[r + 1]! - m.rowPtr[r]!)));
  const cols = new Int32Array(rowPtr[kept.length]!);
  const values = new Int8Array(rowPtr[kept.length]!);
  kept.forEach((r, i) => {
    cols.set(m.cols.subarray(m.rowPtr[r]!, m.rowPtr[r + 1]!), rowPtr[i]!);
    values.set(m.values.subarray(m.rowPtr[r]!, m.rowPtr[r + 1]!), rowPtr[i]!);
  });
  return { participants: kept.map((r) => m.participants[r]!), statements: m.statements, rowPtr, cols, values };
}

function isVoteMatrix(v: unknown): v is VoteMatrix {
  return typeof v === "object" && v !== null && "rowPtr" in v && "cols" in v;
}

// ---------------------------------------------------------------------------
// Per-statement statistics

export interface GroupSupport {
  group: number;
  agree: number;
  disagree: number;
  pass: number;
  /** Group members who voted on the statement (agree + disagree + pass). */
  n: number;
  agreeShare: number;
  disagreeShare: number;
}

export interface StatementStats {
  statement: string;
  groups: GroupSupport[];
  /**
   * Polis' group-informed consensus: product over groups of the smoothed agree
   * probability (agree + 1) / (n + 2), n counting passes. Higher is better.
   */
  consensus: number;
}

export interface RepresentativeStatement {
  statement: string;
  direction: "agree" | "disagree";
  /** Smoothed probability of `direction` inside the group. */
  p: number;
  /** Ratio of that probability to the same probability outside the group. */
  ratio: number;
  /** p × ratio, Polis' ranking metric. */
  score: number;
}

export interface StatementStatsResult {
  statements: StatementStats[];
  /** Statements by group-informed consensus, best first. */
  consensus: { statement: string; consensus: number }[];
  /** Per group id: up to `top` statements with p > 0.5 and ratio > 1, best first. */
  representative: RepresentativeStatement[][];
}

/** Per-statement group support, group-informed consensus and representative statements. */
export function statementStats(
  votes: Iterable<Vote> | VoteMatrix,
  groups: OpinionGroup[],
  options: { top?: number } = {},
): StatementStatsResult {
  const m = isVoteMatrix(votes) ? votes : voteMatrix(votes);
  const top = options.top ?? 5;
  const nG = groups.length;
  const d = m.statements.length;
  const groupOf = new Map<string, number>();
  groups.forEach((g, gi) => g.members.forEach((p) => groupOf.set(p, gi)));
  const agree = new Float64Array(nG * d);
  const disagree = new Float64Array(nG * d);
  const seen = new Float64Array(nG * d);
  m.participants.forEach((p, r) => {
    const g = groupOf.get(p);
    if (g === undefined) return;
    for (let k = m.rowPtr[r]!; k < m.rowPtr[r + 1]!; k++) {
      const at = g * d + m.cols[k]!;
      seen[at]!++;
      if (m.values[k] === 1) agree[at]!++;
      else if (m.values[k] === -1) disagree[at]!++;
    }
  });
  const statements: StatementStats[] = m.statements.map((statement, j) => {
    let consensus = 1;
    const gs: GroupSupport[] = [];
    for (let g = 0; g < nG; g++) {
      const a = agree[g * d + j]!;
      const dis = disagree[g * d + j]!;
      const n = seen[g * d + j]!;
      consensus *= (a + 1) / (n + 2);
      gs.push({
        group: groups[g]!.id,
        agree: a,
        disagree: dis,
        pass: n - a - dis,
        n,
        agreeShare: n > 0 ? a / n : 0,
        disagreeShare: n > 0 ? dis / n : 0,
      });
    }
    return { statement, groups: gs, consensus };
  });
  const consensus = statements
    .map((s) => ({ statement: s.statement, consensus: s.consensus }))
    .sort((a, b) => b.consensus - a.consensus || compareIds(a.statement, b.statement));

  const representative: RepresentativeStatement[][] = groups.map((_, g) => {
    const out: RepresentativeStatement[] = [];
    for (let j = 0; j < d; j++) {
      let aOut = 0;
      let dOut = 0;
      let nOut = 0;
      for (let h = 0; h < nG; h++) {
        if (h === g) continue;
        aOut += agree[h * d + j]!;
        dOut += disagree[h * d + j]!;
        nOut += seen[h * d + j]!;
      }
      const n = seen[g * d + j]!;
      for (const direction of ["agree", "disagree"] as const) {
        const x = direction === "agree" ? agree[g * d + j]! : disagree[g * d + j]!;
        const xOut = direction === "agree" ? aOut : dOut;
        const p = (x + 1) / (n + 2);
        const ratio = p / ((xOut + 1) / (nOut + 2));
        if (p > 0.5 && ratio > 1) out.push({ statement: m.statements[j]!, direction, p, ratio, score: p * ratio });
      }
    }
    return out.sort((a, b) => b.score - a.score || compareIds(a.statement, b.statement)).slice(0, top);
  });
  return { statements, consensus, representative };
}

// ---------------------------------------------------------------------------
// Bridging (Community Notes)

export interface BridgingOptions {
  /** Latent dimensions; only 1 is supported (as Community Notes). */
  factors?: 1;
  /** ALS sweeps. Default 50. */
  epochs?: number;
  /** L2 weight on factors (Community Notes' l2_lambda). Default 0.03. */
  lambda?: number;
  /** Intercepts (and μ) get lambda × this (Community Notes' l2_intercept_multiplier). Default 5. */
  interceptMultiplier?: number;
  /** Seed of the initial factors. Default 42. */
  seed?: number;
}

export interface BridgingScore {
  statement: string;
  /** b_s, the bridging score: support not explained by the opinion factor. */
  intercept: number;
  /** f_s: the statement's position on the opinion axis. */
  factor: number;
  /** Agree/disagree votes used (passes are skipped). */
  n: number;
}

export interface BridgingResult {
  mu: number;
  statements: BridgingScore[];
  participants: { participant: string; intercept: number; factor: number; n: number }[];
  /** Final value of the objective described in {@link bridgingScores}. */
  loss: number;
}

/**
 * Community Notes style matrix factorisation r ≈ μ + b_p + b_s + f_p·f_s on
 * agree = 1, disagree = 0 (passes are skipped), minimising Community Notes'
 * objective
 *
 *   mean (r − r̂)² + λ (mean f_p² + mean f_s²)
 *                 + λ·m (mean b_p² + mean b_s² + μ²),   λ = 0.03, m = 5,
 *
 * by alternating least squares: each sweep solves μ exactly, then every
 * participant's (b_p, f_p) and every statement's (b_s, f_s) as 2×2 ridge
 * problems (multiplying the objective by the number of ratings N turns the
 * means into per-entity weights λ·N/|P| and λ·N/|S|). ALS is deterministic
 * given the seeded initial factors and monotonically decreases the objective.
 * The factor sign is fixed so that the participants' factors sum to ≥ 0.
 */
export function bridgingScores(votes: Iterable<Vote> | VoteMatrix, options: BridgingOptions = {}): BridgingResult {
  if ((options.factors ?? 1) !== 1) throw new Error("bridgingScores supports one factor only");
  const m = isVoteMatrix(votes) ? votes : voteMatrix(votes);
  const epochs = options.epochs ?? 50;
  const lambda = options.lambda ?? 0.03;
  const lambdaI = lambda * (options.interceptMultiplier ?? 5);
  const nP = m.participants.length;
  const nS = m.statements.length;

  // Ratings (pass skipped), by participant (CSR) and by statement (CSC).
  const pPtr = new Int32Array(nP + 1);
  let N = 0;
  for (let r = 0; r < nP; r++) {
    for (let k = m.rowPtr[r]!; k < m.rowPtr[r + 1]!; k++) if (m.values[k] !== 0) N++;
    pPtr[r + 1] = N;
  }
  const pCol = new Int32Array(N);
  const pVal = new Float64Array(N);
  const sCount = new Int32Array(nS + 1);
  let at = 0;
  for (let r = 0; r < nP; r++) {
    for (let k = m.rowPtr[r]!; k < m.rowPtr[r + 1]!; k++) {
      if (m.values[k] === 0) continue;
      pCol[at] = m.cols[k]!;
      pVal[at] = m.values[k] === 1 ? 1 : 0;
      sCount[m.cols[k]! + 1]!++;
      at++;
    }
  }
  const sPtr = new Int32Array(nS + 1);
  for (let s = 0; s < nS; s++) sPtr[s + 1] = sPtr[s]! + sCount[s + 1]!;
  const sRow = new Int32Array(N);
  const sVal = new Float64Array(N);
  const fillS = sPtr.slice(0, nS);
  for (let r = 0; r < nP; r++) {
    for (let k = pPtr[r]!; k < pPtr[r + 1]!; k++) {
      const s = pCol[k]!;
      const q = fillS[s]!++;
      sRow[q] = r;
      sVal[q] = pVal[k]!;
    }
  }

  const rand = seededRandom(options.seed ?? 42);
  const bp = new Float64Array(nP);
  const fp = new Float64Array(nP);
  const bs = new Float64Array(nS);
  const fs = new Float64Array(nS);
  for (let r = 0; r < nP; r++) fp[r] = (rand() - 0.5) * 0.2;
  for (let s = 0; s < nS; s++) fs[s] = (rand() - 0.5) * 0.2;
  let mu = 0;
  const regP = N / Math.max(nP, 1);
  const regS = N / Math.max(nS, 1);

  // Solve min Σ (y − b − f x)² + αb² + βf² from its sufficient statistics.
  const solve = (n: number, sx: number, sxx: number, sy: number, sxy: number, alpha: number, beta: number): [number, number] => {
    const a11 = n + alpha;
    const a12 = sx;
    const a22 = sxx + beta;
    const det = a11 * a22 - a12 * a12;
    if (!(det > 0)) return [0, 0];
    return [(a22 * sy - a12 * sxy) / det, (a11 * sxy - a12 * sy) / det];
  };

  for (let epoch = 0; epoch < epochs && N > 0; epoch++) {
    let res = 0;
    for (let r = 0; r < nP; r++) {
      for (let k = pPtr[r]!; k < pPtr[r + 1]!; k++) {
        const s = pCol[k]!;
        res += pVal[k]! - bp[r]! - bs[s]! - fp[r]! * fs[s]!;
      }
    }
    mu = res / (N + lambdaI * N);
    for (let r = 0; r < nP; r++) {
      let n = 0, sx = 0, sxx = 0, sy = 0, sxy = 0;
      for (let k = pPtr[r]!; k < pPtr[r + 1]!; k++) {
        const s = pCol[k]!;
        const x = fs[s]!;
        const y = pVal[k]! - mu - bs[s]!;
        n++;
        sx += x;
        sxx += x * x;
        sy += y;
        sxy += x * y;
      }
      [bp[r], fp[r]] = solve(n, sx, sxx, sy, sxy, lambdaI * regP, lambda * regP);
    }
    for (let s = 0; s < nS; s++) {
      let n = 0, sx = 0, sxx = 0, sy = 0, sxy = 0;
      for (let k = sPtr[s]!; k < sPtr[s + 1]!; k++) {
        const r = sRow[k]!;
        const x = fp[r]!;
        const y = sVal[k]! - mu - bp[r]!;
        n++;
        sx += x;
        sxx += x * x;
        sy += y;
        sxy += x * y;
      }
      [bs[s], fs[s]] = solve(n, sx, sxx, sy, sxy, lambdaI * regS, lambda * regS);
    }
  }

  let fpSum = 0;
  for (let r = 0; r < nP; r++) fpSum += fp[r]!;
  if (fpSum < 0) {
    for (let r = 0; r < nP; r++) fp[r] = -fp[r]!;
    for (let s = 0; s < nS; s++) fs[s] = -fs[s]!;
  }

  let sq = 0;
  for (let r = 0; r < nP; r++) {
    for (let k = pPtr[r]!; k < pPtr[r + 1]!; k++) {
      const s = pCol[k]!;
      sq += (pVal[k]! - mu - bp[r]! - bs[s]! - fp[r]! * fs[s]!) ** 2;
    }
  }
  const meanSq = (a: Float64Array) => (a.length === 0 ? 0 : a.reduce((x, y) => x + y * y, 0) / a.length);
  const loss = (N > 0 ? sq / N : 0) + lambda * (meanSq(fp) + meanSq(fs)) + lambdaI * (meanSq(bp) + meanSq(bs) + mu * mu);

  return {
    mu,
    loss,
    statements: m.statements.map((statement, s) => ({
      statement,
      intercept: bs[s]!,
      factor: fs[s]!,
      n: sPtr[s + 1]! - sPtr[s]!,
    })),
    participants: m.participants.map((participant, r) => ({
      participant,
      intercept: bp[r]!,
      factor: fp[r]!,
      n: pPtr[r + 1]! - pPtr[r]!,
    })),
  };
}

// ---------------------------------------------------------------------------
// Agreement between two partitions

/**
 * Adjusted Rand index (Hubert and Arabie) of two labellings of the same
 * items: 1 for identical partitions, about 0 for chance agreement.
 */
export function adjustedRandIndex(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  if (a.length !== b.length) throw new Error("adjustedRandIndex: labellings differ in length");
  const pairs = (x: number) => (x * (x - 1)) / 2;
  const cells = new Map<string, number>();
  const rows = new Map<string | number, number>();
  const cols = new Map<string | number, number>();
  a.forEach((x, i) => {
    const y = b[i]!;
    const key = `${String(x)}\u0000${String(y)}`;
    cells.set(key, (cells.get(key) ?? 0) + 1);
    rows.set(x, (rows.get(x) ?? 0) + 1);
    cols.set(y, (cols.get(y) ?? 0) + 1);
  });
  let index = 0;
  for (const c of cells.values()) index += pairs(c);
  let sumA = 0;
  for (const c of rows.values()) sumA += pairs(c);
  let sumB = 0;
  for (const c of cols.values()) sumB += pairs(c);
  const expected = (sumA * sumB) / pairs(a.length);
  const max = (sumA + sumB) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}
