import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  DEFAULT_RULES,
  communityRulesSchema,
  decisionRuleSchema,
  describeTally,
  rulesFor,
  strictestLevel,
  tally,
  tallyRecord,
  type DecisionRule,
  type Vote,
  type VoteValue,
} from "../src/participation/decision.ts";

const OPENED = new Date("2025-03-01T00:00:00.000Z");
const CLOSES = new Date("2025-03-05T00:00:00.000Z");
const AFTER = new Date("2025-03-10T00:00:00.000Z");
const DURING = new Date("2025-03-02T00:00:00.000Z");

const rule = (over: Partial<DecisionRule> = {}): DecisionRule => ({
  quorum: 0,
  threshold: "majority",
  blocks: false,
  minOpenHours: 0,
  ...over,
});

function ballots(spec: Partial<Record<VoteValue, number>>, at = DURING): Vote[] {
  const votes: Vote[] = [];
  for (const [value, n] of Object.entries(spec) as [VoteValue, number][]) {
    for (let i = 0; i < n; i++) votes.push({ member: `${value}-${i}`, value, at });
  }
  return votes;
}

function closedTally(spec: Partial<Record<VoteValue, number>>, r: Partial<DecisionRule>, members = 10) {
  return tally(ballots(spec), { members, rule: rule(r), openedAt: OPENED, closesAt: CLOSES, now: AFTER });
}

function messages(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof z.ZodError) return error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw error;
  }
  throw new Error("expected a validation error");
}

describe("quorum", () => {
  it("rejects a proposal under quorum with a plain reason", () => {
    const t = closedTally({ yes: 2 }, { quorum: 0.3 });
    expect(t.state).toBe("rejected");
    expect(t.reason).toBe("quorum not reached: 2 of 10 members voted, 30% needed");
    expect(t.quorumNeeded).toBe(3);
    expect(t.turnout).toBe(0.2);
  });

  it("counts abstentions (and blocks) as having voted", () => {
    const t = closedTally({ yes: 2, abstain: 1 }, { quorum: 0.3 });
    expect(t.voters).toBe(3);
    expect(t.state).toBe("adopted");
  });

  it("computes the quorum without floating-point surprises", () => {
    // 0.3 * 10 = 3.0000000000000004 in floating point; 3 voters suffice.
    expect(closedTally({ yes: 3 }, { quorum: 0.3 }).quorumNeeded).toBe(3);
    expect(closedTally({ yes: 1 }, { quorum: 0.5 }, 3).quorumNeeded).toBe(2);
    expect(closedTally({ yes: 3 }, { quorum: 1 }, 3).state).toBe("adopted");
  });
});

describe("thresholds", () => {
  it("passes at exactly two-thirds and fails just below", () => {
    expect(closedTally({ yes: 2, no: 1 }, { threshold: "two-thirds" }).state).toBe("adopted");
    expect(closedTally({ yes: 4, no: 2 }, { threshold: "two-thirds" }).state).toBe("adopted");
    const below = closedTally({ yes: 3, no: 2 }, { threshold: "two-thirds" });
    expect(below.state).toBe("rejected");
    expect(below.reason).toMatch(/^threshold not reached: 3 yes to 2 no \(60% yes\)/);
  });

  it("fails a majority tie and passes one more yes", () => {
    expect(closedTally({ yes: 2, no: 2 }, { threshold: "majority" }).state).toBe("rejected");
    expect(closedTally({ yes: 3, no: 2 }, { threshold: "majority" }).state).toBe("adopted");
  });

  it("ignores abstentions for the threshold", () => {
    expect(closedTally({ yes: 2, no: 1, abstain: 5 }, { threshold: "two-thirds" }).state).toBe("adopted");
  });

  it("needs no 'no' and at least one yes for unanimity", () => {
    expect(closedTally({ yes: 5, abstain: 2 }, { threshold: "unanimity" }).state).toBe("adopted");
    expect(closedTally({ yes: 5, no: 1 }, { threshold: "unanimity" }).state).toBe("rejected");
  });

  it("rejects when no one voted yes or no", () => {
    const t = closedTally({ abstain: 4 }, {});
    expect(t.state).toBe("rejected");
    expect(t.reason).toBe("no one voted yes or no");
    expect(closedTally({}, {}, 0).reason).toBe("no one voted yes or no");
  });
});

describe("blocks", () => {
  it("lets one block stop a consensus proposal", () => {
    const t = closedTally({ yes: 9, block: 1 }, { blocks: true });
    expect(t.state).toBe("rejected");
    expect(t.reason).toBe("blocked by 1 member");
    expect(closedTally({ yes: 8, block: 2 }, { blocks: true }).reason).toBe("blocked by 2 members");
  });

  it("counts a block as a no when blocks are disabled", () => {
    expect(closedTally({ yes: 9, block: 1 }, { blocks: false }).state).toBe("adopted");
    expect(closedTally({ yes: 1, block: 1 }, { blocks: false }).state).toBe("rejected");
    expect(closedTally({ yes: 9, block: 1 }, { blocks: false, threshold: "unanimity" }).state).toBe("rejected");
  });
});

describe("ballots and closing", () => {
  it("ignores votes after closing", () => {
    const votes: Vote[] = [
      { member: "a", value: "yes", at: DURING },
      { member: "b", value: "no", at: new Date("2025-03-06T00:00:00Z") },
      { member: "c", value: "no", at: new Date("2025-03-07T00:00:00Z") },
      { member: "a", value: "no", at: new Date("2025-03-08T00:00:00Z") },
    ];
    const t = tally(votes, { members: 3, rule: rule(), openedAt: OPENED, closesAt: CLOSES, now: AFTER });
    expect(t.counts).toEqual({ yes: 1, no: 0, abstain: 0, block: 0 });
    expect(t.voters).toBe(1);
    expect(t.state).toBe("adopted");
  });

  it("counts a vote cast exactly at the close", () => {
    const t = tally([{ member: "a", value: "yes", at: CLOSES }], { members: 1, rule: rule(), openedAt: OPENED, closesAt: CLOSES, now: AFTER });
    expect(t.counts.yes).toBe(1);
  });

  it("counts only each member's latest vote", () => {
    const votes: Vote[] = [
      { member: "a", value: "no", at: new Date("2025-03-03T00:00:00Z") },
      { member: "a", value: "yes", at: new Date("2025-03-02T00:00:00Z") },
      { member: "b", value: "yes", at: new Date("2025-03-02T00:00:00Z") },
      { member: "b", value: "abstain", at: new Date("2025-03-04T00:00:00Z") },
    ];
    const t = tally(votes, { members: 2, rule: rule(), openedAt: OPENED, closesAt: CLOSES, now: AFTER });
    expect(t.counts).toEqual({ yes: 0, no: 1, abstain: 1, block: 0 });
    expect(t.voters).toBe(2);
    expect(t.state).toBe("rejected");
  });

  it("reports provisional counts while open", () => {
    const t = tally(ballots({ yes: 3, no: 1 }), { members: 10, rule: rule({ quorum: 0.5 }), openedAt: OPENED, closesAt: CLOSES, now: DURING });
    expect(t.state).toBe("open");
    expect(t.closedAt).toBeNull();
    expect(t.counts).toEqual({ yes: 3, no: 1, abstain: 0, block: 0 });
    expect(t.reason).toBe("open until 2025-03-05T00:00:00.000Z: so far 4 of 10 members voted, 50% needed");
  });

  it("postpones closing until the minimum open time", () => {
    const early = new Date("2025-03-01T12:00:00Z");
    const options = { members: 2, rule: rule({ minOpenHours: 72 }), openedAt: OPENED, closesAt: early };
    const votes: Vote[] = [
      { member: "a", value: "yes", at: new Date("2025-03-01T06:00:00Z") },
      { member: "b", value: "no", at: new Date("2025-03-02T00:00:00Z") },
      { member: "b", value: "yes", at: new Date("2025-03-03T23:00:00Z") },
    ];
    const open = tally(votes, { ...options, now: new Date("2025-03-02T00:00:00Z") });
    expect(open.state).toBe("open");
    expect(open.closesAt.toISOString()).toBe("2025-03-04T00:00:00.000Z");
    expect(open.reason).toContain("postponed by the 72-hour minimum");
    expect(open.counts).toEqual({ yes: 1, no: 1, abstain: 0, block: 0 });

    const closed = tally(votes, { ...options, now: new Date("2025-03-04T00:00:00Z") });
    expect(closed.state).toBe("adopted");
    expect(closed.closedAt?.toISOString()).toBe("2025-03-04T00:00:00.000Z");
    expect(closed.counts.yes).toBe(2);
  });

  it("refuses inconsistent input", () => {
    const options = { rule: rule(), openedAt: OPENED, closesAt: CLOSES, now: AFTER };
    expect(() => tally(ballots({ yes: 3 }), { ...options, members: 2 })).toThrow(/only 2 are eligible/);
    expect(() => tally([], { ...options, members: 1.5 })).toThrow(/whole number/);
    expect(() => tally([], { ...options, members: 1, now: new Date("nope") })).toThrow(/now must be a valid date/);
  });
});

describe("levels and rules", () => {
  it("picks the strictest level", () => {
    expect(strictestLevel(["guideline", "root", "user"])).toBe("root");
    expect(strictestLevel(["user", "developer", "guideline"])).toBe("developer");
    expect(strictestLevel(new Set(["guideline"] as const))).toBe("guideline");
    expect(strictestLevel([])).toBe("root");
  });

  it("applies community overrides per level", () => {
    expect(rulesFor("root")).toEqual(DEFAULT_RULES.root);
    expect(rulesFor("user", { user: { quorum: 0.6 }, root: { blocks: false } })).toEqual({ ...DEFAULT_RULES.user, quorum: 0.6 });
    expect(rulesFor("root", { root: { blocks: false, minOpenHours: 0 } })).toEqual({ ...DEFAULT_RULES.root, blocks: false, minOpenHours: 0 });
    expect(rulesFor("guideline", { guideline: { quorum: undefined, minOpenHours: 1 } })).toEqual({ ...DEFAULT_RULES.guideline, minOpenHours: 1 });
    expect(() => rulesFor("user", { user: { quorum: 50 } })).toThrow(/quorum must be a share between 0 and 1/);
  });

  it("has valid, progressively stricter defaults", () => {
    for (const r of Object.values(DEFAULT_RULES)) expect(decisionRuleSchema.parse(r)).toEqual(r);
    expect(DEFAULT_RULES.root).toMatchObject({ threshold: "two-thirds", blocks: true });
  });

  it("explains schema errors clearly", () => {
    expect(messages(() => decisionRuleSchema.parse({ quorum: 1.5, threshold: "most", blocks: "yes", minOpenHours: -1 }))).toEqual([
      "quorum: quorum must be a share between 0 and 1 (0.5 = half of the members), not a percentage above 1",
      'threshold: threshold must be "majority", "two-thirds" or "unanimity"',
      "blocks: blocks must be true (any block stops the proposal) or false",
      "minOpenHours: minOpenHours must be 0 or more hours",
    ]);
    expect(messages(() => decisionRuleSchema.parse({ ...DEFAULT_RULES.user, veto: true })).join()).toMatch(/veto/);
    expect(messages(() => communityRulesSchema.parse({ admin: {} })).join()).toMatch(/admin/);
    expect(messages(() => communityRulesSchema.parse({ user: { quorum: -0.1 } }))).toEqual([
      "user.quorum: quorum must be a share between 0 and 1 (0.5 = half of the members), not below 0",
    ]);
  });
});

describe("describeTally and tallyRecord", () => {
  it("describes the outcome in one line", () => {
    const line = describeTally(closedTally({ yes: 2 }, { quorum: 0.3 }));
    expect(line).toBe("Rejected: quorum not reached: 2 of 10 members voted, 30% needed (2 yes, 0 no, 0 abstain, 0 block)");
    expect(line).not.toContain("\n");
    expect(describeTally(closedTally({ yes: 2, no: 1 }, { threshold: "two-thirds" }))).toMatch(/^Adopted: 2 yes to 1 no/);
  });

  it("gives a stable JSON record", () => {
    const t = closedTally({ yes: 2, no: 1, abstain: 1 }, { threshold: "two-thirds", quorum: 0.3 });
    const record = tallyRecord(t);
    expect(Object.keys(record)).toEqual([
      "state", "reason", "counts", "voters", "members", "quorumNeeded", "turnout", "threshold", "rule", "openedAt", "closesAt", "closedAt",
    ]);
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
    expect(record).toMatchObject({ state: "adopted", voters: 4, closedAt: "2025-03-05T00:00:00.000Z", rule: { quorum: 0.3, threshold: "two-thirds", blocks: false, minOpenHours: 0 } });
    // Same inputs in another order give the same bytes.
    const again = tally([...ballots({ yes: 2, no: 1, abstain: 1 })].reverse(), {
      members: 10, rule: { minOpenHours: 0, blocks: false, threshold: "two-thirds", quorum: 0.3 }, openedAt: OPENED, closesAt: CLOSES, now: AFTER,
    });
    expect(JSON.stringify(tallyRecord(again))).toBe(JSON.stringify(record));
  });
});
