/**
 * How a community decides on a proposal (an amendment to one of its
 * alignment policies), modelled on Loomio's proposals: members vote yes, no,
 * abstain or block; when the proposal closes, a quorum, a threshold and
 * (for consensus decisions) blocks decide whether it is adopted.
 *
 * Everything here is pure: no clock, no database. The caller passes `now`,
 * the eligible member count and the ballots; `tally()` answers what the
 * outcome is (or would be, provisionally, while the vote is open), and
 * `tallyRecord()` gives the stable object embedded as provenance in an
 * adopted version.
 *
 * Rules per authority level: a proposal is governed by the rule of the
 * strictest level among the clauses it touches (`strictestLevel`), with the
 * community's overrides applied on top of `DEFAULT_RULES` (`rulesFor`).
 */
import { AUTHORITY_LEVELS, type AuthorityLevel } from "../policies/content.ts";
import { z } from "../zod.ts";

export const THRESHOLDS = ["majority", "two-thirds", "unanimity"] as const;
export type Threshold = (typeof THRESHOLDS)[number];

export const VOTE_VALUES = ["yes", "no", "abstain", "block"] as const;
export type VoteValue = (typeof VOTE_VALUES)[number];

const ruleShape = {
  quorum: z
    .number({ error: "quorum must be a number: the share of members who must vote, from 0 to 1 (0.5 = half)" })
    .min(0, "quorum must be a share between 0 and 1 (0.5 = half of the members), not below 0")
    .max(1, "quorum must be a share between 0 and 1 (0.5 = half of the members), not a percentage above 1")
    .openapi({ description: "Share of the members who must vote, from 0 to 1 (0.3 = 30%). The web pages show and take it as a percentage." }),
  threshold: z.enum(THRESHOLDS, { error: 'threshold must be "majority", "two-thirds" or "unanimity"' }),
  blocks: z.boolean({ error: "blocks must be true (any block stops the proposal) or false" }),
  minOpenHours: z
    .number({ error: "minOpenHours must be a number of hours" })
    .min(0, "minOpenHours must be 0 or more hours"),
};

/**
 * One decision rule.
 * - `quorum`: share (0..1) of eligible members who must have voted when the
 *   proposal closes; abstentions and blocks count as having voted.
 * - `threshold`: share of yes among yes+no votes ("majority": more than half;
 *   "two-thirds": at least two-thirds; "unanimity": no "no" and at least one yes).
 * - `blocks`: consensus mode; any block rejects the proposal. When false, a
 *   block is counted as a "no" for the threshold.
 * - `minOpenHours`: the proposal cannot close earlier than this after opening.
 */
export const decisionRuleSchema = z.object(ruleShape).strict().openapi("DecisionRule");
export type DecisionRule = z.infer<typeof decisionRuleSchema>;

/** A partial rule, used for a community's overrides of one level. */
const ruleOverrideSchema = z.object(ruleShape).partial().strict();

/** A community's overrides of the default rules, per authority level. */
export const communityRulesSchema = z
  .object(
    Object.fromEntries(AUTHORITY_LEVELS.map((level) => [level, ruleOverrideSchema.optional()])) as Record<
      AuthorityLevel,
      z.ZodOptional<typeof ruleOverrideSchema>
    >,
  )
  .strict()
  .openapi("CommunityRules");
export type CommunityRules = z.infer<typeof communityRulesSchema>;

/**
 * Defaults, one per authority level. The higher a level, the more its clauses
 * bind everything below them, so the harder they are to change:
 * - root: hard limits that no one below may override. Half the members must
 *   take part, two-thirds must agree, any member may block (consensus), and
 *   the proposal stays open at least three days so that no one is left out
 *   by time zones or a weekend.
 * - system: the platform's own instructions. Same quorum and two-thirds, but
 *   no veto: one member should not be able to freeze the operator's rules.
 *   Two days minimum.
 * - developer / user: everyday defaults that operators and users may adjust
 *   within bounds; a simple majority of a 30% quorum, one day minimum.
 * - guideline: soft defaults of tone and style, overridable by anyone; a
 *   simple majority of a 20% quorum, one day minimum.
 */
export const DEFAULT_RULES: Readonly<Record<AuthorityLevel, Readonly<DecisionRule>>> = Object.freeze({
  root: Object.freeze({ quorum: 0.5, threshold: "two-thirds", blocks: true, minOpenHours: 72 }),
  system: Object.freeze({ quorum: 0.5, threshold: "two-thirds", blocks: false, minOpenHours: 48 }),
  developer: Object.freeze({ quorum: 0.3, threshold: "majority", blocks: false, minOpenHours: 24 }),
  user: Object.freeze({ quorum: 0.3, threshold: "majority", blocks: false, minOpenHours: 24 }),
  guideline: Object.freeze({ quorum: 0.2, threshold: "majority", blocks: false, minOpenHours: 24 }),
});

/**
 * The rule for one level: the default with the community's overrides for
 * that level applied field by field. Overrides are validated (throws a
 * ZodError with the messages above).
 */
export function rulesFor(level: AuthorityLevel, overrides?: CommunityRules): DecisionRule {
  if (!AUTHORITY_LEVELS.includes(level)) throw new RangeError(`unknown authority level "${String(level)}"`);
  const parsed = overrides === undefined ? {} : communityRulesSchema.parse(overrides);
  // A field given as undefined keeps the default rather than erasing it.
  const own = Object.fromEntries(Object.entries(parsed[level] ?? {}).filter(([, value]) => value !== undefined));
  return decisionRuleSchema.parse({ ...DEFAULT_RULES[level], ...own });
}

/**
 * The strictest level among those a proposal touches: root > system >
 * developer > user > guideline (the order of AUTHORITY_LEVELS). Strictness is
 * by level, not by comparing the (possibly overridden) rule values.
 * With no levels at all (for instance a proposal that touches no clause), the
 * answer is "root": when we cannot tell what is at stake, the strictest rule
 * is the safe one.
 */
export function strictestLevel(levels: Iterable<AuthorityLevel>): AuthorityLevel {
  let best: number = AUTHORITY_LEVELS.length;
  for (const level of levels) {
    const index = AUTHORITY_LEVELS.indexOf(level);
    if (index < 0) throw new RangeError(`unknown authority level "${String(level)}"`);
    if (index < best) best = index;
  }
  return (AUTHORITY_LEVELS as readonly AuthorityLevel[])[best] ?? "root";
}

export interface Vote {
  member: string;
  value: VoteValue;
  at: Date;
}

export interface TallyOptions {
  /** Eligible members when the proposal closes (for an open one: now). */
  members: number;
  rule: DecisionRule;
  openedAt: Date;
  closesAt: Date;
  now: Date;
}

export interface VoteCounts {
  yes: number;
  no: number;
  abstain: number;
  block: number;
}

export interface Tally {
  state: "open" | "adopted" | "rejected";
  /** Plain language: why it was adopted or rejected, or how it stands. */
  reason: string;
  counts: VoteCounts;
  /** Members whose vote counts (one each). */
  voters: number;
  members: number;
  /** The rule applied. */
  rule: DecisionRule;
  /** Voters needed for the quorum: ceil(quorum × members). */
  quorumNeeded: number;
  /** voters / members (0 when there are no members). */
  turnout: number;
  /** The threshold in words, e.g. "at least two-thirds of yes and no votes". */
  threshold: string;
  openedAt: Date;
  /** Effective close: max(closesAt, openedAt + minOpenHours). */
  closesAt: Date;
  /** The effective close once closed; null while open. */
  closedAt: Date | null;
}

const HOUR_MS = 3_600_000;

const THRESHOLD_WORDS: Record<Threshold, string> = {
  majority: "more than half of yes and no votes",
  "two-thirds": "at least two-thirds of yes and no votes",
  unanimity: "no votes against and at least one yes",
};

function checkDate(name: string, date: Date): number {
  const time = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(time)) throw new RangeError(`${name} must be a valid date`);
  return time;
}

function percent(share: number): string {
  return `${Number((share * 100).toFixed(1))}%`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * Count the votes and, once the proposal has closed, decide it.
 *
 * - Closing: the effective close is max(closesAt, openedAt + minOpenHours);
 *   a proposal cannot close before its minimum open time even if closesAt is
 *   earlier. While now < effective close the state is "open" and the counts
 *   are provisional (votes up to now).
 * - Ballots: one member, one vote. Only votes cast between openedAt and the
 *   effective close (inclusive) count; of those, each member's latest counts
 *   (at equal times, the later one in the list). Later votes are ignored even
 *   though the API already refuses them.
 * - Decision, in this order: any block with blocks enabled → rejected;
 *   voters < ceil(quorum × members) → rejected; no yes or no votes →
 *   rejected; otherwise the threshold on yes/(yes+no) in exact integer
 *   arithmetic (majority: 2·yes > yes+no; two-thirds: 3·yes ≥ 2·(yes+no);
 *   unanimity: no = 0 and yes ≥ 1). Abstentions count for the quorum only.
 *   With blocks disabled, a block counts as a "no" for the threshold.
 */
export function tally(votes: readonly Vote[], options: TallyOptions): Tally {
  const rule = decisionRuleSchema.parse(options.rule);
  const { members } = options;
  if (!Number.isSafeInteger(members) || members < 0) throw new RangeError("members must be a whole number of 0 or more");
  const opened = checkDate("openedAt", options.openedAt);
  const scheduled = checkDate("closesAt", options.closesAt);
  const now = checkDate("now", options.now);
  const close = Math.max(scheduled, opened + rule.minOpenHours * HOUR_MS);
  const open = now < close;
  const countUntil = open ? now : close;

  const latest = new Map<string, Vote>();
  for (const vote of votes) {
    if (!VOTE_VALUES.includes(vote.value)) throw new RangeError(`unknown vote "${String(vote.value)}" by ${vote.member}`);
    const at = checkDate(`the vote of ${vote.member}`, vote.at);
    if (at < opened || at > countUntil) continue;
    const previous = latest.get(vote.member);
    if (!previous || at >= previous.at.getTime()) latest.set(vote.member, vote);
  }
  const counts: VoteCounts = { yes: 0, no: 0, abstain: 0, block: 0 };
  for (const vote of latest.values()) counts[vote.value] += 1;
  const voters = latest.size;
  if (voters > members) {
    throw new RangeError(`${plural(voters, "member")} voted but only ${members} are eligible: count the eligible members at close`);
  }

  const quorumNeeded = Math.ceil(Number((rule.quorum * members).toFixed(9)));
  const turnout = members === 0 ? 0 : voters / members;
  const base = {
    counts,
    voters,
    members,
    rule,
    quorumNeeded,
    turnout,
    threshold: THRESHOLD_WORDS[rule.threshold],
    openedAt: new Date(opened),
    closesAt: new Date(close),
  };
  const turnoutWords = `${voters} of ${plural(members, "member")} voted, ${percent(rule.quorum)} needed`;

  if (open) {
    const postponed = close > scheduled ? ` (postponed by the ${rule.minOpenHours}-hour minimum)` : "";
    return {
      ...base,
      state: "open",
      reason: `open until ${new Date(close).toISOString()}${postponed}: so far ${turnoutWords}`,
      closedAt: null,
    };
  }

  const closed = { ...base, closedAt: new Date(close) };
  const rejected = (reason: string): Tally => ({ ...closed, state: "rejected", reason });

  if (rule.blocks && counts.block > 0) return rejected(`blocked by ${plural(counts.block, "member")}`);
  if (voters < quorumNeeded) return rejected(`quorum not reached: ${turnoutWords}`);
  const yes = counts.yes;
  const against = counts.no + (rule.blocks ? 0 : counts.block);
  const cast = yes + against;
  if (cast === 0) return rejected("no one voted yes or no");
  const passes =
    rule.threshold === "majority" ? 2 * yes > cast : rule.threshold === "two-thirds" ? 3 * yes >= 2 * cast : against === 0 && yes > 0;
  const againstWords = rule.blocks || counts.block === 0 ? `${against} no` : `${against} no (including ${counts.block} block)`;
  const result = `${yes} yes to ${againstWords} (${percent(yes / cast)} yes), ${THRESHOLD_WORDS[rule.threshold]} needed; ${turnoutWords}`;
  return passes ? { ...closed, state: "adopted", reason: result } : rejected(`threshold not reached: ${result}`);
}

/** One line for humans, e.g. "Rejected: quorum not reached: 2 of 10 members voted, 30% needed (2 yes, 0 no, 0 abstain, 0 block)". */
export function describeTally(t: Tally): string {
  const { yes, no, abstain, block } = t.counts;
  const state = t.state === "open" ? "Open" : t.state === "adopted" ? "Adopted" : "Rejected";
  return `${state}: ${t.reason} (${yes} yes, ${no} no, ${abstain} abstain, ${block} block)`;
}

export interface TallyRecord {
  state: Tally["state"];
  reason: string;
  counts: VoteCounts;
  voters: number;
  members: number;
  quorumNeeded: number;
  turnout: number;
  threshold: string;
  rule: DecisionRule;
  openedAt: string;
  closesAt: string;
  closedAt: string | null;
}

/**
 * The tally as plain JSON for provenance (embedded in the adopted version):
 * dates as ISO strings, keys always in the same order, nothing else.
 */
export function tallyRecord(t: Tally): TallyRecord {
  return {
    state: t.state,
    reason: t.reason,
    counts: { yes: t.counts.yes, no: t.counts.no, abstain: t.counts.abstain, block: t.counts.block },
    voters: t.voters,
    members: t.members,
    quorumNeeded: t.quorumNeeded,
    turnout: t.turnout,
    threshold: t.threshold,
    rule: {
      quorum: t.rule.quorum,
      threshold: t.rule.threshold,
      blocks: t.rule.blocks,
      minOpenHours: t.rule.minOpenHours,
    },
    openedAt: t.openedAt.toISOString(),
    closesAt: t.closesAt.toISOString(),
    closedAt: t.closedAt === null ? null : t.closedAt.toISOString(),
  };
}
