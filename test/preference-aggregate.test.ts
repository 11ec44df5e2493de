import { describe, expect, it } from "vitest";
import {
  aggregateClause,
  aggregateComparison,
  chiSquareSurvival,
  judgementFromRecord,
  normalQuantile,
  wilsonInterval,
  type Judgement,
} from "../src/preferences/aggregate.ts";

const choose = (raterId: string, choice: number, groups: string[] = [], breakdown = true): Judgement => ({
  raterId,
  choice,
  ratings: null,
  groups,
  breakdown,
});
const rate = (raterId: string, values: number[], groups: string[] = [], breakdown = true, scale = { min: 1, max: 5 }): Judgement => ({
  raterId,
  choice: null,
  ratings: { scale, values },
  groups,
  breakdown,
});
/** `count` raters in `group`, `first` of them choosing response 0 and the rest response 1. */
const cohort = (group: string, count: number, first: number, breakdown = true): Judgement[] =>
  Array.from({ length: count }, (_, i) => choose(`${group}-${i}`, i < first ? 0 : 1, [group], breakdown));

describe("wilsonInterval", () => {
  it("matches known values", () => {
    const i = wilsonInterval(8, 10, 0.95)!;
    expect(i.low).toBeCloseTo(0.4901625, 6);
    expect(i.high).toBeCloseTo(0.9433178, 6);
    expect(wilsonInterval(8, 10)).toEqual(i); // 0.95 by default
    const zero = wilsonInterval(0, 10)!;
    expect(zero.low).toBe(0);
    expect(zero.high).toBeCloseTo(0.2775328, 6);
    const all = wilsonInterval(10, 10)!;
    expect(all.low).toBeCloseTo(0.7224672, 6);
    expect(all.high).toBe(1);
    const wide = wilsonInterval(1, 3, 0.99)!;
    expect(wide.low).toBeCloseTo(0.0404266, 6);
    expect(wide.high).toBeCloseTo(0.8557840, 6);
  });

  it("gives no interval without data and rejects nonsense", () => {
    expect(wilsonInterval(0, 0)).toBeNull();
    expect(() => wilsonInterval(11, 10)).toThrow(RangeError);
    expect(() => wilsonInterval(1, 10, 1)).toThrow(RangeError);
  });

  it("uses an accurate normal quantile", () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489, 12);
    expect(normalQuantile(1e-12)).toBeCloseTo(-7.034483825301131, 9);
    expect(normalQuantile(0.5)).toBe(0);
  });
});

describe("chiSquareSurvival", () => {
  it("matches known p-values", () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 10);
    expect(chiSquareSurvival(3.841, 1)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(5.991464547107979, 2)).toBeCloseTo(0.05, 10);
    expect(chiSquareSurvival(5.991, 2)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(18.307038053275146, 10)).toBeCloseTo(0.05, 10);
    expect(chiSquareSurvival(43.77297182574219, 30)).toBeCloseTo(0.05, 10);
    expect(chiSquareSurvival(0.5, 3)).toBeCloseTo(0.9188914116546758, 10);
    expect(chiSquareSurvival(2.5, 7)).toBeCloseTo(0.9270970650134738, 10);
    // Far tails, relative accuracy.
    expect(chiSquareSurvival(100, 1) / 1.5239706048320995e-23).toBeCloseTo(1, 8);
    expect(chiSquareSurvival(1000, 500) / 1.2085183611328796e-35).toBeCloseTo(1, 8);
  });

  it("handles the edges", () => {
    expect(chiSquareSurvival(0, 1)).toBe(1);
    expect(chiSquareSurvival(-1, 3)).toBe(1);
    expect(chiSquareSurvival(Infinity, 3)).toBe(0);
    expect(() => chiSquareSurvival(1, 0)).toThrow(RangeError);
  });
});

describe("aggregateComparison", () => {
  it("reports shares, intervals and n overall, and always the full shape", () => {
    const judgements = [...Array.from({ length: 8 }, (_, i) => choose(`a${i}`, 0)), choose("b0", 1), choose("b1", 1)];
    const s = aggregateComparison(judgements, { responseCount: 2, minGroupSize: 5 });
    expect(s.overall.n).toBe(10);
    expect(s.overall.responses[0]!.share).toBeCloseTo(0.8, 12);
    expect(s.overall.responses[1]!.share).toBeCloseTo(0.2, 12);
    expect(s.overall.responses[0]!.interval!.low).toBeCloseTo(0.4901625, 6);
    // With two responses, response 1's interval mirrors response 0's.
    expect(s.overall.responses[1]!.interval!.high).toBeCloseTo(1 - 0.4901625, 6);
    expect(s.overall.responses[0]!.meanRating).toBeNull();
    expect(s.byGroup).toEqual([]);
    expect(s.suppressedGroups).toBe(0);
    expect(s.disagreement.verdict).toBe("not enough data");
  });

  it("gives nulls, not zeros, without judgements", () => {
    const s = aggregateComparison([], { responseCount: 2, minGroupSize: 5 });
    expect(s.overall.n).toBe(0);
    expect(s.overall.responses.map((r) => [r.share, r.interval, r.meanRating])).toEqual([
      [null, null, null],
      [null, null, null],
    ]);
    expect(s.disagreement.verdict).toBe("not enough data");
  });

  it("keeps only the last judgement of a rater", () => {
    const s = aggregateComparison([choose("r1", 0, ["g"]), choose("r2", 0, ["g"]), choose("r1", 1, ["h"])], { responseCount: 2, minGroupSize: 1 });
    expect(s.counts).toEqual({ judgements: 3, raters: 2, duplicatesDropped: 1, withoutBreakdownConsent: 0 });
    expect(s.overall.responses.map((r) => r.votes)).toEqual([1, 1]);
    // The kept judgement also decides the groups: r1 is now only in h.
    expect(s.byGroup.map((g) => [g.group, g.n])).toEqual([
      ["g", 1],
      ["h", 1],
    ]);
  });

  it("counts ratings as a vote for the top-rated response, splitting ties, with normalised means", () => {
    const s = aggregateComparison([rate("a", [5, 3]), rate("b", [4, 4]), rate("c", [1, 2]), choose("d", 0)], { responseCount: 2, minGroupSize: 1 });
    expect(s.overall.n).toBe(4);
    expect(s.overall.rated).toBe(3);
    expect(s.overall.responses[0]!.votes).toBeCloseTo(2.5, 12); // a, half of b, d
    expect(s.overall.responses[1]!.votes).toBeCloseTo(1.5, 12); // half of b, c
    expect(s.overall.responses[0]!.share).toBeCloseTo(0.625, 12);
    // Normalised on 1..5: (1 + 0.75 + 0) / 3 and (0.5 + 0.75 + 0.25) / 3.
    expect(s.overall.responses[0]!.meanRating).toBeCloseTo(1.75 / 3, 12);
    expect(s.overall.responses[1]!.meanRating).toBeCloseTo(0.5, 12);

    const three = aggregateComparison([rate("a", [3, 3, 3]), rate("b", [9, 9, 0], [], true, { min: 0, max: 10 })], { responseCount: 3, minGroupSize: 1 });
    expect(three.overall.responses.map((r) => r.votes)).toEqual([1 / 3 + 1 / 2, 1 / 3 + 1 / 2, 1 / 3]);
    expect(three.overall.responses.every((r) => r.interval !== null)).toBe(true);
  });

  it("withholds small groups, naming none of them", () => {
    const judgements = [
      ...cohort("big-one", 6, 4),
      ...cohort("big-two", 5, 1),
      ...cohort("tiny-secret-group", 2, 2),
      choose("x", 0, ["another-rare-label", "big-one"]),
    ];
    const s = aggregateComparison(judgements, { responseCount: 2, minGroupSize: 5 });
    expect(s.byGroup.map((g) => [g.group, g.n])).toEqual([
      ["big-one", 7],
      ["big-two", 5],
    ]);
    expect(s.suppressedGroups).toBe(2);
    expect(s.overall.n).toBe(14); // withheld raters still count overall
    const text = JSON.stringify(s);
    expect(text).not.toContain("tiny-secret-group");
    expect(text).not.toContain("another-rare-label");
  });

  it("counts raters without breakdown consent overall only", () => {
    const judgements = [...cohort("g", 5, 5), ...cohort("g-private", 3, 0, false).map((j) => ({ ...j, groups: ["g", "private-only"] }))];
    const s = aggregateComparison(judgements, { responseCount: 2, minGroupSize: 1 });
    expect(s.overall.n).toBe(8);
    expect(s.overall.responses[0]!.share).toBeCloseTo(5 / 8, 12);
    expect(s.counts.withoutBreakdownConsent).toBe(3);
    expect(s.byGroup).toHaveLength(1);
    expect(s.byGroup[0]).toMatchObject({ group: "g", n: 5 });
    expect(s.byGroup[0]!.responses[0]!.share).toBe(1);
    // Labels declared only without consent are neither shown nor counted as withheld.
    expect(s.suppressedGroups).toBe(0);
    expect(JSON.stringify(s)).not.toContain("private-only");
  });

  it("counts a rater in several groups in each", () => {
    const s = aggregateComparison([choose("a", 0, ["x", "y", "x"]), choose("b", 1, ["y"])], { responseCount: 2, minGroupSize: 1 });
    expect(s.byGroup.map((g) => [g.group, g.n, g.responses[0]!.votes])).toEqual([
      ["x", 1, 1],
      ["y", 2, 1],
    ]);
  });

  it("says groups differ when they are clearly split", () => {
    const s = aggregateComparison([...cohort("north", 20, 18), ...cohort("south", 20, 3)], { responseCount: 2, minGroupSize: 5 });
    const d = s.disagreement;
    expect(d.verdict).toBe("groups differ");
    expect(d.range!.value).toBeCloseTo(0.75, 12);
    expect(d.range!.highest.group).toBe("north");
    expect(d.range!.lowest.group).toBe("south");
    // scipy.stats.chi2_contingency([[18, 2], [3, 17]], correction=False)
    expect(d.chiSquare!.statistic).toBeCloseTo(22.55639097744361, 9);
    expect(d.chiSquare!.df).toBe(1);
    expect(d.chiSquare!.pValue).toBeCloseTo(2.040645312739709e-6, 12);
    expect(d.explanation).toMatch(/differ/);
  });

  it("says groups agree when they prefer the same thing", () => {
    const s = aggregateComparison([...cohort("north", 30, 21), ...cohort("south", 30, 20), ...cohort("west", 30, 22)], { responseCount: 2, minGroupSize: 5 });
    expect(s.disagreement.verdict).toBe("groups agree");
    expect(s.disagreement.chiSquare!.df).toBe(2);
    expect(s.disagreement.chiSquare!.pValue).toBeGreaterThan(0.5);
    expect(s.disagreement.range!.value).toBeCloseTo(2 / 30, 12);

    const unanimous = aggregateComparison([...cohort("north", 6, 6), ...cohort("south", 6, 6)], { responseCount: 2, minGroupSize: 5 });
    expect(unanimous.disagreement.verdict).toBe("groups agree");
    expect(unanimous.disagreement.chiSquare).toBeNull();
  });

  it("says not enough data for one group, or for tiny groups", () => {
    expect(aggregateComparison(cohort("only", 50, 10), { responseCount: 2, minGroupSize: 5 }).disagreement.verdict).toBe("not enough data");
    const tiny = aggregateComparison([...cohort("a", 3, 3), ...cohort("b", 3, 0)], { responseCount: 2, minGroupSize: 2 });
    expect(tiny.disagreement.smallExpectedCounts).toBe(true);
    expect(tiny.disagreement.verdict).toBe("not enough data");
    expect(tiny.disagreement.range!.value).toBe(1);
  });

  it("rejects malformed judgements and options", () => {
    const opts = { responseCount: 2, minGroupSize: 1 };
    expect(() => aggregateComparison([choose("a", 2)], opts)).toThrow(/choice/);
    expect(() => aggregateComparison([rate("a", [1, 2, 3])], opts)).toThrow(/one rating per response/);
    expect(() => aggregateComparison([rate("a", [0, 2])], opts)).toThrow(/scale/);
    expect(() => aggregateComparison([{ ...choose("a", 0), ratings: { scale: { min: 1, max: 5 }, values: [1, 2] } }], opts)).toThrow(/not both/);
    expect(() => aggregateComparison([], { responseCount: 2, minGroupSize: 0 })).toThrow(/minGroupSize/);
    expect(() => aggregateComparison([], { responseCount: 1, minGroupSize: 1 })).toThrow(/responseCount/);
  });

  it("reads preference records", () => {
    expect(
      judgementFromRecord({ raterId: "r", choice: 1, ratings: null, groups: ["g"], consent: { train: true, federate: false, breakdown: true } }),
    ).toEqual({ raterId: "r", choice: 1, ratings: null, groups: ["g"], breakdown: true });
  });

  it("handles 10k judgements quickly", () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
    const labels = ["g0", "g1", "g2", "g3", "g4", "g5", "g6", "g7", "rare"];
    const judgements: Judgement[] = Array.from({ length: 10_000 }, (_, i) => {
      // Raters r0..r499 judge twice (the second replaces the first); three consenting raters are in "rare".
      const groups = labels.filter((l) => (l === "rare" ? i >= 1_000 && i < 1_003 : random() < 0.3));
      const consent = groups.includes("rare") || random() < 0.9;
      const lean = groups.includes("g0") ? 0.8 : 0.5;
      return random() < 0.2
        ? rate(`r${i % 9_500}`, [Math.ceil(random() * 5), Math.ceil(random() * 5)], groups, consent)
        : choose(`r${i % 9_500}`, random() < lean ? 0 : 1, groups, consent);
    });
    const started = performance.now();
    const s = aggregateComparison(judgements, { responseCount: 2, minGroupSize: 10 });
    const elapsed = performance.now() - started;
    console.log(`aggregateComparison: 10,000 judgements in ${elapsed.toFixed(1)} ms`);
    expect(s.counts.raters).toBe(9_500);
    expect(s.counts.duplicatesDropped).toBe(500);
    expect(s.byGroup.map((g) => g.group)).toEqual(["g0", "g1", "g2", "g3", "g4", "g5", "g6", "g7"]);
    expect(s.suppressedGroups).toBe(1);
    expect(s.disagreement.verdict).toBe("groups differ");
  });
});

describe("aggregateClause", () => {
  const opts = { responseCount: 2, minGroupSize: 5 };

  it("rolls comparisons up, overall and per shown group", () => {
    const summaries = [
      aggregateComparison([...cohort("a", 20, 18), ...cohort("b", 20, 4)], opts), // good wins 22/40
      aggregateComparison([...cohort("a", 20, 16), ...cohort("b", 20, 2)], opts), // good loses 18/40
      aggregateComparison([...cohort("a", 20, 14), ...cohort("b", 3, 0)], opts), // b withheld; good wins 14/23
      aggregateComparison([...cohort("a", 5, 2), ...cohort("b", 5, 3)], opts), // tie 5/10: half a win
      aggregateComparison([], opts), // no raters: left out (and no test)
    ];
    const c = aggregateClause(summaries);
    expect(c.counts).toEqual({ comparisons: 5, withoutJudgements: 1 });
    expect(c.overall.comparisons).toBe(4);
    expect(c.overall.goodPreferred).toBeCloseTo(2.5, 12);
    expect(c.overall.share).toBeCloseTo(2.5 / 4, 12);
    expect(c.overall.interval!.low).toBeCloseTo(wilsonInterval(2.5, 4)!.low, 12);
    expect(c.overall.meanGoodShare).toBeCloseTo((22 / 40 + 18 / 40 + 14 / 23 + 5 / 10) / 4, 12);
    expect(c.byGroup.map((g) => [g.group, g.comparisons, g.goodPreferred])).toEqual([
      ["a", 4, 3],
      ["b", 3, 1],
    ]);
    expect(c.disagreement.comparisons).toEqual({ differ: 2, agree: 0, notEnoughData: 3 });
    expect(c.disagreement.verdict).toBe("groups differ");
    expect(c.disagreement.range!.value).toBeCloseTo(3 / 4 - 1 / 3, 12);
  });

  it("accepts judgements grouped by comparison", () => {
    const c = aggregateClause(
      [
        { responseCount: 2, judgements: [...cohort("a", 20, 12), ...cohort("b", 20, 12)] },
        { responseCount: 2, judgements: [...cohort("a", 20, 14), ...cohort("b", 20, 12)] },
      ],
      { minGroupSize: 5 },
    );
    expect(c.overall).toMatchObject({ comparisons: 2, goodPreferred: 2, share: 1 });
    expect(c.byGroup.map((g) => g.group)).toEqual(["a", "b"]);
    expect(c.disagreement.verdict).toBe("groups agree");
    expect(c.disagreement.threshold).toBeCloseTo(0.025, 12);
  });

  it("says not enough data with nothing to compare", () => {
    const c = aggregateClause([]);
    expect(c.overall.share).toBeNull();
    expect(c.byGroup).toEqual([]);
    expect(c.disagreement.verdict).toBe("not enough data");
  });
});
