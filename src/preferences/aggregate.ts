/**
 * Aggregating preference judgements, overall and per self-declared group.
 *
 * Fedalign never reports one majority number: every summary carries the
 * overall shares, the shares per group, how many groups were withheld, and
 * a measure of how much the shown groups disagree. Everything here is pure
 * (no I/O, no clock, no randomness) and deterministic for a given input.
 *
 * Decisions, in one place:
 *
 * - **One judgement per rater.** When a rater appears more than once for a
 *   comparison, the *last* judgement in input order wins (earlier ones are
 *   dropped and counted in `counts.duplicatesDropped`). Pass judgements in
 *   creation order so that "last" means "latest". The kept judgement also
 *   decides the rater's groups and breakdown consent.
 * - **Votes.** A choice is one vote for the chosen response. Ratings are one
 *   vote for the highest-rated response; when several share the top rating
 *   the vote is split equally between them (so votes may be fractional).
 *   Shares are votes / raters.
 * - **Intervals.** Wilson score intervals, also for fractional vote counts
 *   (p̂ = votes / n). Every response gets its own interval; with two
 *   responses the interval of response 1 is exactly the mirror of response
 *   0's, so `responses[0].interval` is *the* interval. With more responses
 *   the intervals are per response (marginal, not simultaneous). No raters
 *   means a null share and a null interval, never a made-up 0.
 * - **Ratings.** `meanRating` is the mean rating normalised to 0..1 by its
 *   own scale ((v - min) / (max - min)), over the rating judgements only
 *   (`rated` says how many); null when there are none.
 * - **Groups and consent.** Only judgements with breakdown consent count
 *   towards groups; the others count overall only. A rater in several
 *   groups counts in each. Labels are compared exactly (record.ts already
 *   trims them); a label repeated within one judgement counts once.
 * - **k-anonymity.** A group with fewer than `minGroupSize` consenting
 *   raters is withheld: only the number of such groups is reported, never
 *   their labels or numbers. Labels declared only by raters without
 *   breakdown consent are not counted at all (not even as suppressed), since
 *   those raters did not agree to their groups being shown in any form.
 *   Shown groups are listed in label order, never in input order.
 *   Not covered: someone who can see several summaries (or overall minus the
 *   shown groups) may still infer something about withheld raters; this is
 *   cell suppression, not differential privacy.
 * - **Disagreement.** Between the shown groups: the range (largest minus
 *   smallest) of the share preferring response 0, plus a chi-square test of
 *   homogeneity on the groups × responses table of votes (responses no one
 *   voted for are left out of the table). The verdict is
 *     "not enough data" — fewer than two groups shown, or expected counts
 *       too small for the chi-square approximation (Cochran: any expected
 *       count below 1, or more than 20% of them below 5);
 *     "groups differ"  — p-value below 1 - confidence;
 *     "groups agree"   — otherwise (read as "no evidence that they differ";
 *       this is also the verdict when every shown group voted unanimously
 *       for the same response, in which case `chiSquare` is null).
 *   Caveats: a rater in two shown groups appears in both rows, so the rows
 *   are not independent samples, and tie-split fractional votes are used as
 *   counts; the p-value is an approximation in those cases. Cramér's V is
 *   reported as an effect size, because with many raters tiny differences
 *   become "significant".
 * - **Clause roll-up.** See `aggregateClause`.
 */
import type { PreferenceRecord } from "./record.ts";

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/** One rater's judgement for one comparison between `responseCount` responses. */
export interface Judgement {
  raterId: string;
  /** Index of the preferred response; null when rated instead. */
  choice: number | null;
  /** One rating per response on the stated scale; null when chosen instead. */
  ratings: { scale: { min: number; max: number }; values: readonly number[] } | null;
  /** Self-declared group labels. */
  groups: readonly string[];
  /** The rater's consent to be counted in group breakdowns. */
  breakdown: boolean;
}

export interface AggregateOptions {
  /** How many responses the comparison has (at least 2). */
  responseCount: number;
  /** Groups with fewer consenting raters than this are withheld (integer, at least 1). */
  minGroupSize: number;
  /** Level of the intervals and of the disagreement test; default 0.95. */
  confidence?: number;
}

export interface Interval {
  low: number;
  high: number;
}

export interface ResponseShare {
  response: number;
  /** Votes for this response (fractional when ratings tie). */
  votes: number;
  /** votes / n; null when n = 0. */
  share: number | null;
  /** Wilson score interval of `share`; null when n = 0. */
  interval: Interval | null;
  /** Mean rating normalised to 0..1, over rating judgements; null when none. */
  meanRating: number | null;
}

export interface ShareStats {
  /** Raters counted. */
  n: number;
  /** Of those, how many gave ratings rather than a choice. */
  rated: number;
  responses: ResponseShare[];
}

export interface GroupShareStats extends ShareStats {
  group: string;
}

export type Verdict = "groups agree" | "groups differ" | "not enough data";

export interface ShareRange {
  /** Largest minus smallest share between the shown groups. */
  value: number;
  lowest: { group: string; share: number };
  highest: { group: string; share: number };
}

export interface ChiSquareResult {
  statistic: number;
  df: number;
  pValue: number;
  /** Effect size, 0 (same) .. 1 (completely different). */
  cramersV: number;
}

export interface Disagreement {
  method: "chi-square test of homogeneity (groups × responses) and range of the response-0 share";
  /** How many shown groups were compared. */
  groups: number;
  /** Range of the share preferring response 0; null with fewer than two shown groups. */
  range: ShareRange | null;
  /** Null with fewer than two shown groups, or when all votes went to one response. */
  chiSquare: ChiSquareResult | null;
  /** Expected counts too small for the chi-square approximation (Cochran's rule). */
  smallExpectedCounts: boolean;
  verdict: Verdict;
  /** One plain-language sentence or two. */
  explanation: string;
}

export interface ComparisonSummary {
  responseCount: number;
  confidence: number;
  minGroupSize: number;
  counts: {
    /** Judgements given, before removing duplicates. */
    judgements: number;
    /** Distinct raters counted overall. */
    raters: number;
    /** Earlier judgements replaced by a later one from the same rater. */
    duplicatesDropped: number;
    /** Raters counted overall but, lacking breakdown consent, in no group. */
    withoutBreakdownConsent: number;
  };
  overall: ShareStats;
  /** Groups with at least `minGroupSize` consenting raters, by label. */
  byGroup: GroupShareStats[];
  /** How many groups were withheld for having too few raters (never which). */
  suppressedGroups: number;
  disagreement: Disagreement;
}

/** The judgements of one comparison, for `aggregateClause`. */
export interface ComparisonJudgements {
  judgements: readonly Judgement[];
  responseCount: number;
}

export interface ClauseOutcome {
  /** Comparisons with at least one rater (for a group: where the group was shown). */
  comparisons: number;
  /** Comparisons where response 0 got the most votes; a tie for the most counts as 1/k. */
  goodPreferred: number;
  /** goodPreferred / comparisons; null when there are none. */
  share: number | null;
  /** Wilson score interval of `share`, over comparisons; null when there are none. */
  interval: Interval | null;
  /** Mean over comparisons of the share of raters preferring response 0 (no interval). */
  meanGoodShare: number | null;
}

export interface ClauseGroupOutcome extends ClauseOutcome {
  group: string;
}

export interface ClauseDisagreement {
  method: "per-comparison chi-square tests, Bonferroni-corrected, and range of the groups' clause shares";
  /** Per-comparison verdicts. */
  comparisons: { differ: number; agree: number; notEnoughData: number };
  /** Range of `byGroup[].share`; null with fewer than two groups. */
  range: ShareRange | null;
  /** Smallest per-comparison p-value among comparisons with a usable test; null when none. */
  smallestPValue: number | null;
  /** (1 - confidence) / number of comparisons with a usable verdict; null when none. */
  threshold: number | null;
  verdict: Verdict;
  explanation: string;
}

export interface ClauseSummary {
  /** The policy's "good" response is response 0. */
  goodResponse: 0;
  confidence: number;
  counts: {
    /** Comparisons given. */
    comparisons: number;
    /** Of those, comparisons with no raters at all (left out of every number). */
    withoutJudgements: number;
  };
  overall: ClauseOutcome;
  /** Groups shown in at least one comparison, by label. */
  byGroup: ClauseGroupOutcome[];
  disagreement: ClauseDisagreement;
}

// ---------------------------------------------------------------------------
// Statistics helpers
// ---------------------------------------------------------------------------

function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must lie strictly between 0 and 1, got ${confidence}`);
}

/**
 * Quantile of the standard normal distribution (Wichura's AS 241,
 * accurate to about 1e-16 relative).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new RangeError(`p must lie between 0 and 1, got ${p}`);
  }
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r + 45921.953931549871457) * r +
          13731.693765509461125) *
          r +
          1971.5909503065514427) *
          r +
          133.14166789178437745) *
          r +
          3.387132872796366608)) /
      (((((((5226.495278852854561 * r + 28729.085735721942674) * r + 39307.89580009271061) * r + 21213.794301586595867) * r +
        5394.1960214247511077) *
        r +
        687.1870074920579083) *
        r +
        42.313330701600911252) *
        r +
        1)
    );
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value =
      (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r + 1.27045825245236838258) * r +
        3.64784832476320460504) *
        r +
        5.7694972214606914055) *
        r +
        4.6303378461565452959) *
        r +
        1.42343711074968357734) /
      (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r + 0.14810397642748007459) * r +
        0.68976733498510000455) *
        r +
        1.6763848301838038494) *
        r +
        2.05319162663775882187) *
        r +
        1);
  } else {
    r -= 5;
    value =
      (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r + 0.026532189526576123093) * r +
        0.29656057182850489123) *
        r +
        1.7848265399172913358) *
        r +
        5.4637849111641143699) *
        r +
        6.6579046435011037772) /
      (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r +
        0.0148753612908506148525) *
        r +
        0.13692988092273580531) *
        r +
        0.59983220655588793769) *
        r +
        1);
  }
  return q < 0 ? -value : value;
}

function wilsonWithZ(successes: number, n: number, z: number): Interval | null {
  if (n <= 0) return null;
  const s = Math.min(Math.max(successes, 0), n); // fractional tie votes may round a hair past n
  const p = s / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  // At p̂ = 0 or 1 the bound is exactly 0 or 1; keep rounding from saying otherwise.
  return { low: s === 0 ? 0 : Math.max(0, centre - half), high: s === n ? 1 : Math.min(1, centre + half) };
}

/**
 * Wilson score interval for a proportion `successes / n` at the given
 * confidence (default 0.95). `successes` may be fractional (split votes).
 * Returns null when n is 0: no data, no interval.
 */
export function wilsonInterval(successes: number, n: number, confidence = 0.95): Interval | null {
  checkConfidence(confidence);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`n must be a finite number of at least 0, got ${n}`);
  if (!Number.isFinite(successes) || successes < 0 || successes > n) throw new RangeError(`successes must lie between 0 and n (${n}), got ${successes}`);
  if (n === 0) return null;
  return wilsonWithZ(successes, n, normalQuantile((1 + confidence) / 2));
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(sum);
}

const GAMMA_EPS = 1e-15;
const GAMMA_TINY = 1e-300;
const GAMMA_MAX_ITERATIONS = 10_000;

/**
 * Regularised upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a): the series
 * for P when x < a + 1, Lentz's continued fraction for Q otherwise.
 */
function regularizedGammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  const logPrefix = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let k = 1; k < GAMMA_MAX_ITERATIONS; k++) {
      term *= x / (a + k);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * GAMMA_EPS) break;
    }
    return Math.min(1, Math.max(0, 1 - sum * Math.exp(logPrefix)));
  }
  let b = x + 1 - a;
  let c = 1 / GAMMA_TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < GAMMA_MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < GAMMA_TINY) d = GAMMA_TINY;
    c = b + an / c;
    if (Math.abs(c) < GAMMA_TINY) c = GAMMA_TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < GAMMA_EPS) break;
  }
  return Math.min(1, Math.max(0, Math.exp(logPrefix) * h));
}

/**
 * P(X ≥ x) for X chi-square distributed with `df` degrees of freedom: the
 * p-value of a chi-square statistic. Computed as Q(df/2, x/2) with the
 * regularised incomplete gamma function. x ≤ 0 gives 1.
 */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(df > 0) || !Number.isFinite(df)) throw new RangeError(`df must be a positive number, got ${df}`);
  if (Number.isNaN(x)) throw new RangeError("x must be a number, got NaN");
  return regularizedGammaQ(df / 2, x / 2);
}

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

/** A preference record as a judgement (breakdown consent taken from its consent terms). */
export function judgementFromRecord(record: Pick<PreferenceRecord, "raterId" | "choice" | "ratings" | "groups" | "consent">): Judgement {
  return { raterId: record.raterId, choice: record.choice, ratings: record.ratings, groups: record.groups, breakdown: record.consent.breakdown };
}

interface Tally {
  n: number;
  rated: number;
  votes: Float64Array;
  ratingSums: Float64Array;
}

function newTally(responseCount: number): Tally {
  return { n: 0, rated: 0, votes: new Float64Array(responseCount), ratingSums: new Float64Array(responseCount) };
}

/** A judgement's votes (summing to 1) and normalised ratings. */
interface Scored {
  votes: Float64Array;
  ratings: Float64Array | null;
}

function score(j: Judgement, index: number, responseCount: number): Scored {
  const where = `judgement ${index}`;
  if (typeof j.raterId !== "string" || j.raterId.length === 0) throw new RangeError(`${where}: raterId must be a non-empty string`);
  if (!Array.isArray(j.groups) || j.groups.some((g) => typeof g !== "string")) throw new RangeError(`${where}: groups must be a list of labels`);
  const votes = new Float64Array(responseCount);
  if ((j.choice === null) === (j.ratings === null)) throw new RangeError(`${where}: give either a choice or ratings, not both and not neither`);
  if (j.choice !== null) {
    if (!Number.isInteger(j.choice) || j.choice < 0 || j.choice >= responseCount) {
      throw new RangeError(`${where}: choice must be the index of one of the ${responseCount} responses, got ${j.choice}`);
    }
    votes[j.choice] = 1;
    return { votes, ratings: null };
  }
  const { scale, values } = j.ratings!;
  if (!Number.isFinite(scale.min) || !Number.isFinite(scale.max) || !(scale.max > scale.min)) {
    throw new RangeError(`${where}: the rating scale needs finite min < max`);
  }
  if (values.length !== responseCount) throw new RangeError(`${where}: needs one rating per response (${responseCount}), got ${values.length}`);
  const ratings = new Float64Array(responseCount);
  let top = -Infinity;
  for (let i = 0; i < responseCount; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || v < scale.min || v > scale.max) throw new RangeError(`${where}: rating ${v} is not on the scale ${scale.min}..${scale.max}`);
    ratings[i] = (v - scale.min) / (scale.max - scale.min);
    if (v > top) top = v;
  }
  let tied = 0;
  for (const v of values) if (v === top) tied++;
  for (let i = 0; i < responseCount; i++) if (values[i] === top) votes[i] = 1 / tied;
  return { votes, ratings };
}

function add(tally: Tally, scored: Scored): void {
  tally.n++;
  for (let i = 0; i < scored.votes.length; i++) tally.votes[i]! += scored.votes[i]!;
  if (scored.ratings) {
    tally.rated++;
    for (let i = 0; i < scored.ratings.length; i++) tally.ratingSums[i]! += scored.ratings[i]!;
  }
}

function summarise(tally: Tally, z: number): ShareStats {
  const responses: ResponseShare[] = [];
  for (let i = 0; i < tally.votes.length; i++) {
    const votes = tally.votes[i]!;
    responses.push({
      response: i,
      votes,
      share: tally.n > 0 ? Math.min(1, votes / tally.n) : null,
      interval: wilsonWithZ(votes, tally.n, z),
      meanRating: tally.rated > 0 ? tally.ratingSums[i]! / tally.rated : null,
    });
  }
  return { n: tally.n, rated: tally.rated, responses };
}

const percent = (x: number): string => `${Math.round(x * 100)}%`;
const formatP = (p: number): string => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`);
const byLabel = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

interface Row {
  group: string;
  n: number;
  counts: ArrayLike<number>;
}

function shareRange(rows: readonly Row[]): ShareRange | null {
  if (rows.length < 2) return null;
  let lowest = { group: rows[0]!.group, share: rows[0]!.counts[0]! / rows[0]!.n };
  let highest = lowest;
  for (const row of rows.slice(1)) {
    const share = row.counts[0]! / row.n;
    if (share < lowest.share) lowest = { group: row.group, share };
    if (share > highest.share) highest = { group: row.group, share };
  }
  return { value: highest.share - lowest.share, lowest, highest };
}

/** Chi-square test of homogeneity over rows (groups) of counts (responses); columns with no votes are dropped. */
function homogeneity(rows: readonly Row[]): { chiSquare: ChiSquareResult | null; smallExpectedCounts: boolean; keptColumns: number[] } {
  const columns = rows[0]?.counts.length ?? 0;
  const totals = new Float64Array(columns);
  let grand = 0;
  for (const row of rows) {
    for (let j = 0; j < columns; j++) totals[j]! += row.counts[j]!;
    grand += row.n;
  }
  const kept: number[] = [];
  for (let j = 0; j < columns; j++) if (totals[j]! > 1e-9) kept.push(j);
  let statistic = 0;
  let cells = 0;
  let below5 = 0;
  let below1 = false;
  for (const row of rows) {
    for (const j of kept) {
      const expected = (row.n * totals[j]!) / grand;
      cells++;
      if (expected < 5) below5++;
      if (expected < 1) below1 = true;
      statistic += (row.counts[j]! - expected) ** 2 / expected;
    }
  }
  const smallExpectedCounts = cells === 0 || below1 || below5 > 0.2 * cells;
  if (rows.length < 2 || kept.length < 2) return { chiSquare: null, smallExpectedCounts, keptColumns: kept };
  const df = (rows.length - 1) * (kept.length - 1);
  return {
    chiSquare: {
      statistic,
      df,
      pValue: chiSquareSurvival(statistic, df),
      cramersV: Math.sqrt(statistic / (grand * (Math.min(rows.length, kept.length) - 1))),
    },
    smallExpectedCounts,
    keptColumns: kept,
  };
}

function comparisonDisagreement(rows: readonly Row[], confidence: number): Disagreement {
  const method = "chi-square test of homogeneity (groups × responses) and range of the response-0 share" as const;
  if (rows.length < 2) {
    return {
      method,
      groups: rows.length,
      range: null,
      chiSquare: null,
      smallExpectedCounts: true,
      verdict: "not enough data",
      explanation: `Fewer than two groups have enough raters to be shown (${rows.length} shown), so groups cannot be compared.`,
    };
  }
  const range = shareRange(rows)!;
  const { chiSquare, smallExpectedCounts, keptColumns } = homogeneity(rows);
  const spread =
    `The share preferring the first response ranges from ${percent(range.lowest.share)} (${range.lowest.group}) ` +
    `to ${percent(range.highest.share)} (${range.highest.group}).`;
  let verdict: Verdict;
  let explanation: string;
  if (smallExpectedCounts) {
    verdict = "not enough data";
    explanation = `${spread} Too few judgements per group for a reliable test; collect more before drawing conclusions.`;
  } else if (chiSquare === null) {
    verdict = "groups agree";
    explanation = `Every rater in every shown group preferred response ${keptColumns[0]}.`;
  } else if (chiSquare.pValue < 1 - confidence) {
    verdict = "groups differ";
    explanation = `Groups differ. ${spread} Chi-square(${chiSquare.df}) = ${chiSquare.statistic.toFixed(2)}, ${formatP(chiSquare.pValue)}.`;
  } else {
    verdict = "groups agree";
    explanation = `No evidence that groups differ. ${spread} Chi-square(${chiSquare.df}) = ${chiSquare.statistic.toFixed(2)}, ${formatP(chiSquare.pValue)}.`;
  }
  return { method, groups: rows.length, range, chiSquare, smallExpectedCounts, verdict, explanation };
}

/**
 * Summarise the judgements of one comparison: overall shares, shares per
 * group (k-anonymous, consenting raters only), the number of withheld
 * groups, and the disagreement between the shown groups. See the module
 * comment for every rule. Throws a RangeError on malformed judgements or
 * options (a bad record is a bug upstream, not something to drop silently).
 */
export function aggregateComparison(judgements: readonly Judgement[], options: AggregateOptions): ComparisonSummary {
  const { responseCount, minGroupSize, confidence = 0.95 } = options;
  if (!Number.isInteger(responseCount) || responseCount < 2) throw new RangeError(`responseCount must be an integer of at least 2, got ${responseCount}`);
  if (!Number.isInteger(minGroupSize) || minGroupSize < 1) throw new RangeError(`minGroupSize must be an integer of at least 1, got ${minGroupSize}`);
  checkConfidence(confidence);
  const z = normalQuantile((1 + confidence) / 2);

  // Validate everything; then keep each rater's last judgement.
  const scored = judgements.map((j, i) => score(j, i, responseCount));
  const last = new Map<string, number>();
  judgements.forEach((j, i) => last.set(j.raterId, i));

  const overall = newTally(responseCount);
  const groups = new Map<string, Tally>();
  let withoutBreakdownConsent = 0;
  for (const i of last.values()) {
    const judgement = judgements[i]!;
    const s = scored[i]!;
    add(overall, s);
    if (!judgement.breakdown) {
      withoutBreakdownConsent++;
      continue;
    }
    for (const label of new Set(judgement.groups)) {
      let tally = groups.get(label);
      if (!tally) groups.set(label, (tally = newTally(responseCount)));
      add(tally, s);
    }
  }

  const byGroup: GroupShareStats[] = [];
  let suppressedGroups = 0;
  for (const label of [...groups.keys()].sort(byLabel)) {
    const tally = groups.get(label)!;
    if (tally.n < minGroupSize) suppressedGroups++;
    else byGroup.push({ group: label, ...summarise(tally, z) });
  }

  const rows: Row[] = byGroup.map((g) => ({ group: g.group, n: g.n, counts: groups.get(g.group)!.votes }));
  return {
    responseCount,
    confidence,
    minGroupSize,
    counts: { judgements: judgements.length, raters: last.size, duplicatesDropped: judgements.length - last.size, withoutBreakdownConsent },
    overall: summarise(overall, z),
    byGroup,
    suppressedGroups,
    disagreement: comparisonDisagreement(rows, confidence),
  };
}

// ---------------------------------------------------------------------------
// Clause
// ---------------------------------------------------------------------------

/** Response 0's part in "who won": 1 if it alone has the most votes, 1/k if tied with k-1 others, else 0. */
function goodOutcome(stats: ShareStats): number | null {
  if (stats.n === 0) return null;
  const votes = stats.responses.map((r) => r.votes);
  const top = Math.max(...votes);
  const tolerance = 1e-9 * Math.max(1, stats.n);
  const tied = votes.filter((v) => top - v <= tolerance).length;
  return top - votes[0]! <= tolerance ? 1 / tied : 0;
}

interface ClauseTally {
  comparisons: number;
  goodPreferred: number;
  goodShareSum: number;
}

function addOutcome(tally: ClauseTally, stats: ShareStats): boolean {
  const outcome = goodOutcome(stats);
  if (outcome === null) return false;
  tally.comparisons++;
  tally.goodPreferred += outcome;
  tally.goodShareSum += stats.responses[0]!.share!;
  return true;
}

function clauseOutcome(tally: ClauseTally, z: number): ClauseOutcome {
  const { comparisons, goodPreferred } = tally;
  return {
    comparisons,
    goodPreferred,
    share: comparisons > 0 ? goodPreferred / comparisons : null,
    interval: wilsonWithZ(goodPreferred, comparisons, z),
    meanGoodShare: comparisons > 0 ? tally.goodShareSum / comparisons : null,
  };
}

function clauseDisagreement(summaries: readonly ComparisonSummary[], byGroup: readonly ClauseGroupOutcome[], confidence: number): ClauseDisagreement {
  const method = "per-comparison chi-square tests, Bonferroni-corrected, and range of the groups' clause shares" as const;
  const comparisons = { differ: 0, agree: 0, notEnoughData: 0 };
  let smallestPValue: number | null = null;
  for (const s of summaries) {
    const d = s.disagreement;
    if (d.verdict === "not enough data") {
      comparisons.notEnoughData++;
      continue;
    }
    if (d.verdict === "groups differ") comparisons.differ++;
    else comparisons.agree++;
    const p = d.chiSquare?.pValue ?? 1; // unanimous comparisons: no test, no evidence of difference
    if (smallestPValue === null || p < smallestPValue) smallestPValue = p;
  }
  const tested = comparisons.differ + comparisons.agree;
  const threshold = tested > 0 ? (1 - confidence) / tested : null;
  const rows = byGroup.filter((g) => g.comparisons > 0).map((g) => ({ group: g.group, n: g.comparisons, counts: [g.goodPreferred] }));
  const range = shareRange(rows);
  const spread = range
    ? ` The good response won ${percent(range.lowest.share)} of comparisons for ${range.lowest.group} and ${percent(range.highest.share)} for ${range.highest.group}.`
    : "";
  let verdict: Verdict;
  let explanation: string;
  if (tested === 0 || smallestPValue === null || threshold === null) {
    verdict = "not enough data";
    explanation = `No comparison of this clause had enough data per group to test for disagreement.${spread}`;
  } else if (smallestPValue < threshold) {
    verdict = "groups differ";
    explanation =
      `Groups differ on at least one of ${tested} tested comparisons (smallest ${formatP(smallestPValue)}, ` +
      `below the corrected threshold ${threshold.toPrecision(2)}).${spread}`;
  } else {
    verdict = "groups agree";
    explanation = `No evidence that groups differ on any of ${tested} tested comparisons (smallest ${formatP(smallestPValue)}).${spread}`;
  }
  return { method, comparisons, range, smallestPValue, threshold, verdict, explanation };
}

/**
 * Roll comparisons of one clause up: how often the policy's "good" response
 * (response 0) was preferred.
 *
 * - Each comparison with at least one rater is one unit: it counts 1 when
 *   response 0 got the most votes, 1/k when it tied with k-1 others for the
 *   most, else 0. `share` is that total over the comparisons, with a Wilson
 *   interval over comparisons (treating comparisons, not judgements, as the
 *   sample avoids counting a prolific rater many times). `meanGoodShare` is
 *   the mean over comparisons of the share of raters preferring response 0.
 * - Per group, the same over the comparisons where that group was *shown*
 *   (so group numbers inherit the k-anonymity of each comparison summary;
 *   groups withheld everywhere never appear). Different groups may rest on
 *   different comparisons: read `comparisons` alongside `share`.
 * - Disagreement: each comparison's own verdict, and "groups differ" for the
 *   clause when any comparison's chi-square p-value is below
 *   (1 - confidence) / (number of comparisons with a usable test)
 *   (Bonferroni, so testing many comparisons does not manufacture
 *   disagreement). Comparisons that were unanimous count as tested with
 *   p = 1.
 *
 * Accepts comparison summaries, or the judgements of each comparison (then
 * `minGroupSize` is required and each is summarised with
 * `aggregateComparison` first). `confidence` defaults to 0.95 and sets the
 * clause intervals and the family-wise level; the per-comparison verdicts
 * keep the level their summaries were made with.
 */
export function aggregateClause(comparisons: readonly ComparisonSummary[], options?: { confidence?: number }): ClauseSummary;
export function aggregateClause(comparisons: readonly ComparisonJudgements[], options: { minGroupSize: number; confidence?: number }): ClauseSummary;
export function aggregateClause(
  comparisons: readonly ComparisonSummary[] | readonly ComparisonJudgements[],
  options: { minGroupSize?: number; confidence?: number } = {},
): ClauseSummary {
  const confidence = options.confidence ?? 0.95;
  checkConfidence(confidence);
  const z = normalQuantile((1 + confidence) / 2);
  const summaries: ComparisonSummary[] = comparisons.map((c) => {
    if (!("judgements" in c)) return c;
    if (options.minGroupSize === undefined) throw new RangeError("minGroupSize is required when aggregating judgements");
    return aggregateComparison(c.judgements, { responseCount: c.responseCount, minGroupSize: options.minGroupSize, confidence });
  });

  const overall: ClauseTally = { comparisons: 0, goodPreferred: 0, goodShareSum: 0 };
  const groups = new Map<string, ClauseTally>();
  let withoutJudgements = 0;
  for (const summary of summaries) {
    if (!addOutcome(overall, summary.overall)) withoutJudgements++;
    for (const g of summary.byGroup) {
      let tally = groups.get(g.group);
      if (!tally) groups.set(g.group, (tally = { comparisons: 0, goodPreferred: 0, goodShareSum: 0 }));
      addOutcome(tally, g);
    }
  }
  const byGroup: ClauseGroupOutcome[] = [...groups.keys()].sort(byLabel).map((group) => ({ group, ...clauseOutcome(groups.get(group)!, z) }));
  return {
    goodResponse: 0,
    confidence,
    counts: { comparisons: summaries.length, withoutJudgements },
    overall: clauseOutcome(overall, z),
    byGroup,
    disagreement: clauseDisagreement(summaries, byGroup, confidence),
  };
}
