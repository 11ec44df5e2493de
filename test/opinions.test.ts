import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  adjustedRandIndex,
  bridgingScores,
  opinionGroups,
  seededRandom,
  statementStats,
  voteMatrix,
  type Vote,
} from "../src/participation/opinions.ts";
import { opinionGroupsOverTime } from "../src/participation/opinion-history.ts";
import { readPolisExport } from "../src/participation/polis.ts";

describe("opinion groups on the London Polis export", () => {
  const ex = readPolisExport("test/fixtures/polis/london.youth.policing");

  it("is deterministic and finds the export summary's group count", () => {
    const a = opinionGroups(ex.votes, { seed: 42 });
    const b = opinionGroups(ex.votes, { seed: 42 });
    expect(b.groups).toEqual(a.groups);
    expect(b.projection).toEqual(a.projection);
    expect(a.excluded).toEqual(["13", "24"]); // 1 and 2 votes: the two participants Polis left ungrouped
    expect(a.groups.flatMap((g) => g.members)).toHaveLength(24);
    // Polis' max-k-fn: 2 + floor(24 / 12) = 4.
    expect(a.silhouettes.map((s) => s.k)).toEqual([2, 3, 4]);
    // On this snapshot k=4 beats k=3 by 0.001 of silhouette: a close call, so k is
    // the one most often best with each tenth of the participants left out.
    expect(a.kSelection.method).toBe("stability");
    expect(a.k).toBe(Number(ex.summary["groups"]));
    expect(a.k).toBe(3);
    expect(a.groups.map((g) => g.members.length)).toEqual([12, 9, 3]);
    for (const seed of [1, 7, 99]) expect(opinionGroups(ex.votes, { seed }).k).toBe(3);
    // Without the stability check the snapshot's silhouette alone picks 4.
    expect(opinionGroups(ex.votes, { closeCallMargin: 0 }).k).toBe(4);
  });

  it("keeps the silhouette's k when the groups are clear", () => {
    const rand = seededRandom(5);
    const votes: Vote[] = [];
    for (let p = 0; p < 60; p++) {
      const side = p % 3;
      for (let s = 0; s < 12; s++) {
        const agrees = Math.floor(s / 4) === side;
        const value = rand() < 0.9 ? (agrees ? 1 : -1) : 0;
        votes.push({ participant: `p${p}`, statement: `s${s}`, value });
      }
    }
    const result = opinionGroups(votes);
    expect(result.kSelection).toEqual({ method: "silhouette" });
    expect(result.k).toBe(3);
    expect(result.groups.map((g) => g.members.length)).toEqual([20, 20, 20]);
  });

  it("library PCA and sparse power-iteration PCA agree", () => {
    const lib = opinionGroups(ex.votes, { pca: "library" });
    const pow = opinionGroups(ex.votes, { pca: "power" });
    expect(lib.pcaMethod).toBe("library");
    expect(pow.pcaMethod).toBe("power");
    lib.projection.forEach((p, i) => {
      expect(pow.projection[i]!.x).toBeCloseTo(p.x, 4);
      expect(pow.projection[i]!.y).toBeCloseTo(p.y, 4);
    });
    expect(pow.groups).toEqual(lib.groups);
    // Also with 0 imputed for missing votes (polisMath "2017"), where the
    // sparse power iteration needs its rank-one correction.
    const lib2017 = opinionGroups(ex.votes, { pca: "library", polisMath: "2017" });
    const pow2017 = opinionGroups(ex.votes, { pca: "power", polisMath: "2017" });
    lib2017.projection.forEach((p, i) => {
      expect(pow2017.projection[i]!.x).toBeCloseTo(p.x, 4);
      expect(pow2017.projection[i]!.y).toBeCloseTo(p.y, 4);
    });
    expect(lib2017.projection.map((p) => p.x)).not.toEqual(lib.projection.map((p) => p.x));
  });

  it("reports per-group support and consensus", () => {
    const g = opinionGroups(ex.votes);
    const stats = statementStats(ex.votes, g.groups);
    expect(stats.statements).toHaveLength(36);
    for (const s of stats.statements) {
      const total = s.groups.reduce((n, x) => n + x.agree + x.disagree + x.pass, 0);
      expect(total).toBe(s.groups.reduce((n, x) => n + x.n, 0));
    }
    expect(stats.consensus[0]!.consensus).toBeGreaterThanOrEqual(stats.consensus.at(-1)!.consensus);
    expect(stats.representative).toHaveLength(g.k);
  });
});

/** Two opposed groups: A (60) and B (40). Statements a* only A agrees with, b* only B, c* both. */
function synthetic(seed = 7): Vote[] {
  const rand = seededRandom(seed);
  const votes: Vote[] = [];
  const statements = [
    ...Array.from({ length: 8 }, (_, i) => `a${i}`),
    ...Array.from({ length: 8 }, (_, i) => `b${i}`),
    ...Array.from({ length: 4 }, (_, i) => `c${i}`),
  ];
  for (let p = 0; p < 100; p++) {
    const group = p < 60 ? "a" : "b";
    for (const s of statements) {
      if (rand() < 0.15) continue; // not seen
      let agree = s[0] === "c" || s[0] === group;
      if (rand() < 0.1) agree = !agree; // noise
      votes.push({ participant: `p${p}`, statement: s, value: rand() < 0.05 ? 0 : agree ? 1 : -1 });
    }
  }
  return votes;
}

describe("synthetic two-group data", () => {
  const votes = synthetic();

  it("silhouette picks k=2 and recovers the groups", () => {
    const r = opinionGroups(votes);
    expect(r.k).toBe(2);
    expect(r.groups.map((g) => g.members.length)).toEqual([60, 40]);
    expect(r.groups[0]!.members.every((p) => Number(p.slice(1)) < 60)).toBe(true);
  });

  it("gives the shared statements the highest bridging intercepts", () => {
    const r = bridgingScores(votes, { seed: 1 });
    const again = bridgingScores(votes, { seed: 1 });
    expect(again).toEqual(r);
    const by = (prefix: string) => r.statements.filter((s) => s.statement.startsWith(prefix));
    const minShared = Math.min(...by("c").map((s) => s.intercept));
    const maxPartisan = Math.max(...[...by("a"), ...by("b")].map((s) => s.intercept));
    expect(minShared).toBeGreaterThan(maxPartisan);
    // The factor separates the partisan statements.
    expect(Math.sign(by("a")[0]!.factor)).toBe(-Math.sign(by("b")[0]!.factor));
    expect(r.statements.reduce((n, s) => n + s.n, 0)).toBe(votes.filter((v) => v.value !== 0).length);
  });

  it("ranks the shared statements first by group-informed consensus", () => {
    const g = opinionGroups(votes);
    const stats = statementStats(votes, g.groups);
    expect(stats.consensus.slice(0, 4).map((s) => s.statement).sort()).toEqual(["c0", "c1", "c2", "c3"]);
    expect(stats.representative[0]!.every((s) => (s.direction === "agree" ? s.statement[0] === "a" : s.statement[0] === "b"))).toBe(true);
  });

  it("voteMatrix keeps the last vote per pair", () => {
    const m = voteMatrix([
      { participant: "2", statement: "s", value: 1 },
      { participant: "10", statement: "s", value: 1 },
      { participant: "2", statement: "s", value: -1 },
    ]);
    expect(m.participants).toEqual(["2", "10"]);
    expect([...m.values]).toEqual([-1, 1]);
  });
});

describe("group structure like Polis' on five real conversations", () => {
  const conversations = ["london.youth.policing", "15-per-hour-seattle", "vtaiwan.uberx", "canadian-electoral-reform", "scoop-hivemind.ubi"];
  const run = (name: string) => {
    const ex = readPolisExport(`test/fixtures/polis/${name}`);
    const moderatedOut = ex.statements.filter((s) => s.moderated < 0).map((s) => s.id);
    return { ex, result: opinionGroups(ex.votes, { moderatedOut }) };
  };

  // The requirement, for every conversation in the data set: the group
  // count of its summary.csv. Four hold; scoop-hivemind.ubi does not (we find 2
  // where Polis reports 4, see the next test), so it is declared a known
  // failure: `it.fails` passes only while the assertion fails, and starts
  // failing the day the count agrees, so that the marker gets removed.
  const expected = { "london.youth.policing": 3, "15-per-hour-seattle": 2, "vtaiwan.uberx": 2, "canadian-electoral-reform": 2, "scoop-hivemind.ubi": 4 } as const;
  it("the data set's summary.csv group counts are 3, 2, 2, 2 and 4", () => {
    for (const name of conversations) {
      const summary = readFileSync(`test/fixtures/polis/${name}/summary.csv`, "utf8");
      expect(Number(/^groups,(\d+)$/m.exec(summary)![1])).toBe(expected[name as keyof typeof expected]);
    }
  });

  it.each(conversations.slice(0, 4))("%s: the group count of its summary.csv, and membership that agrees with Polis' group-id", (name) => {
    const { ex, result } = run(name);
    expect(result.k).toBe(Number(ex.summary["groups"]));
    expect(result.baseClusters).toBeLessThanOrEqual(100);
    const ours = new Map(result.groups.flatMap((g) => g.members.map((p) => [p, g.id] as const)));
    const both = ex.participants.filter((p) => p.group !== null && ours.has(p.id));
    const ari = adjustedRandIndex(both.map((p) => ours.get(p.id)!), both.map((p) => p.group!));
    // London is small (24 participants) and its k a close call; the others agree well.
    expect(ari).toBeGreaterThan(name === "london.youth.policing" ? 0 : 0.6);
  });

  it.fails("scoop-hivemind.ubi: the group count of its summary.csv (known failure: 2, not 4)", () => {
    const { ex, result } = run("scoop-hivemind.ubi");
    expect(result.k).toBe(Number(ex.summary["groups"]));
  });

  it("scoop-hivemind.ubi: Polis reports 4 groups, but two of them coincide in the final projection (they differ in who voted on the last comments), so a snapshot finds 2", () => {
    const { ex, result } = run("scoop-hivemind.ubi");
    expect(ex.summary["groups"]).toBe("4");
    expect(result.k).toBe(2);
    // Polis' groups 0 and 2, placed by our projection of the final votes: their
    // centres are about 0.2 apart while each spreads about 1.9 around its centre, so no clustering of this
    // snapshot can tell them apart. Replaying the votes' history (warm starts,
    // k smoothing; opinion-history.ts) does not separate them either: it ends
    // on 2 or 3 groups depending on how often it recomputes, never these.
    const polisGroup = new Map(ex.participants.map((p) => [p.id, p.group]));
    const stats = (g: string) => {
      const pts = result.projection.filter((p) => polisGroup.get(p.participant) === g);
      const cx = pts.reduce((s, p) => s + p.x, 0) / pts.length;
      const cy = pts.reduce((s, p) => s + p.y, 0) / pts.length;
      const spread = Math.sqrt(pts.reduce((s, p) => s + (p.x - cx) ** 2 + (p.y - cy) ** 2, 0) / pts.length);
      return { cx, cy, spread };
    };
    const [a, b] = [stats("0"), stats("2")];
    expect(Math.hypot(a.cx - b.cx, a.cy - b.cy)).toBeLessThan(0.15 * Math.min(a.spread, b.spread));
    // What does tell them apart is who voted at all on the ten accepted comments
    // added last (59-67 and 70, from 23 August): nearly every member of group 2 did,
    // nearly no member of group 0. With missing votes imputed by the column
    // mean (Polis' current math), not voting carries no position, so this
    // split is not one the PCA of the votes can show.
    const late = new Set(ex.statements.filter((s) => Number(s.id) >= 59 && s.moderated === 1).map((s) => s.id));
    expect(late.size).toBe(10);
    const votedLate = new Set(ex.votes.filter((v) => late.has(v.statement)).map((v) => v.participant));
    const share = (g: string) => {
      const members = result.projection.filter((p) => polisGroup.get(p.participant) === g);
      return members.filter((p) => votedLate.has(p.participant)).length / members.length;
    };
    expect(share("2")).toBeGreaterThan(0.95);
    expect(share("0")).toBeLessThan(0.05);
  });
});

describe("scoop-hivemind.ubi: why its export cannot give Polis' 4 groups from a snapshot", () => {
  const ex = readPolisExport("test/fixtures/polis/scoop-hivemind.ubi");
  const rejected = ex.statements.filter((s) => s.moderated < 0).map((s) => s.id);
  const neverAccepted = ex.statements.filter((s) => s.moderated === 0).map((s) => s.id);
  const ari = (result: ReturnType<typeof opinionGroups>) => {
    const ours = new Map(result.groups.flatMap((g) => g.members.map((p) => [p, g.id] as const)));
    const both = ex.participants.filter((p) => p.group !== null && ours.has(p.id));
    return adjustedRandIndex(both.map((p) => ours.get(p.id)!), both.map((p) => p.group!));
  };

  it("its groups were last computed by Polis' math of 2017, and with that math and the export's moderation a snapshot still finds 2", () => {
    // Polis imputes statement means for missing votes since 22 October 2017
    // (before: 0) and recomputes only when votes or moderation change; the
    // last vote here is from 31 August 2017.
    const last = Math.max(...ex.rawVotes.map((v) => v.timestamp!));
    expect(last).toBeLessThan(Date.UTC(2017, 9, 22));
    // Polis grouped every participant, 60 of them with fewer than 7 votes
    // (none of the four other exports does this): neither Polis' rule then nor
    // now clusters them with this moderation (one rejected statement, without
    // votes).
    const votes = new Map<string, number>();
    for (const v of ex.votes) votes.set(v.participant, (votes.get(v.participant) ?? 0) + 1);
    const grouped = ex.participants.filter((p) => p.group !== null);
    expect(grouped).toHaveLength(234);
    expect(grouped.filter((p) => (votes.get(p.id) ?? 0) < 7)).toHaveLength(60);
    const result = opinionGroups(ex.votes, { moderatedOut: rejected, polisMath: "2017" });
    expect(result.projection).toHaveLength(174);
    expect(result.k).toBe(2);
  });

  it("if the 18 statements never accepted had been moderated out then, Polis' 2017 math clusters all 234 and finds groups close to Polis', with k a three-way tie", () => {
    // Polis' 2017 math counted votes for its threshold on the matrix with
    // moderated-out columns zeroed, so with these 18 out everyone qualifies.
    // The export records them as unmoderated, so this is a hypothesis about
    // the moderation at the time, not something the export lets us apply.
    expect(neverAccepted).toHaveLength(18);
    const result = opinionGroups(ex.votes, { moderatedOut: [...rejected, ...neverAccepted], polisMath: "2017" });
    expect(result.projection).toHaveLength(234);
    expect(ari(result)).toBeGreaterThan(0.45);
    // Under the same math with the export's moderation, membership agrees far less.
    expect(ari(opinionGroups(ex.votes, { moderatedOut: rejected, polisMath: "2017" }))).toBeLessThan(0.15);
    // k = 3, 4 and 5 are within 0.01 of each other: which one Polis showed
    // depends on its history (group-k smoother, warm starts).
    const s = new Map(result.silhouettes.map((x) => [x.k, x.silhouette]));
    const tied = [3, 4, 5].map((k) => s.get(k)!);
    expect(Math.max(...tied) - Math.min(...tied)).toBeLessThan(0.01);
    expect(s.get(2)!).toBeLessThan(Math.min(...tied));
  });
});

describe("opinion groups replayed over a conversation's history (Polis' recomputations)", () => {
  it("London, run every 5 minutes of votes: Polis' 3 groups, participants kept in once they qualified, k smoothed over runs", () => {
    const ex = readPolisExport("test/fixtures/polis/london.youth.policing");
    const moderatedOut = ex.statements.filter((s) => s.moderated < 0).map((s) => s.id);
    const timed = ex.rawVotes.map((v) => ({ ...v, timestamp: v.timestamp! }));
    const result = opinionGroupsOverTime(timed, { moderatedOut, window: 300_000 });
    expect(result.k).toBe(Number(ex.summary["groups"]));
    expect(result.kSelection).toMatchObject({ method: "history", recomputations: 4 });
    expect(result.groups.flatMap((g) => g.members).sort()).toEqual(result.projection.map((p) => p.participant).sort());
    expect(result.baseClusters).toBeLessThanOrEqual(100);
    // Deterministic, and independent of the order the votes come in.
    expect(opinionGroupsOverTime([...timed].reverse(), { moderatedOut, window: 300_000 }).groups).toEqual(result.groups);
    // The workshop's votes all fall within an hour: an hourly window is one cold run.
    const hourly = opinionGroupsOverTime(timed, { moderatedOut, window: 3_600_000 });
    expect(hourly.kSelection).toMatchObject({ recomputations: 1 });
  });
});

describe("adjustedRandIndex", () => {
  it("is 1 for the same partition under other labels and about 0 for unrelated ones", () => {
    expect(adjustedRandIndex([0, 0, 1, 1, 2], ["b", "b", "a", "a", "c"])).toBe(1);
    expect(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 1, 0, 1, 0, 1])).toBeLessThan(0);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 0, 1])).toBeCloseTo(0, 5);
  });
});
