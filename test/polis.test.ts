import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { denseVotes, voteMatrix } from "../src/participation/opinions.ts";
import { readPolisExport, writePolisExport } from "../src/participation/polis.ts";

const DIR = "test/fixtures/polis/london.youth.policing";

describe("Polis export", () => {
  const ex = readPolisExport(DIR);

  it("imports the London statements, votes, participants and summary", () => {
    expect(ex.statements).toHaveLength(39); // comment ids 0..38; 0, 2, 3 moderated out
    expect(ex.statements.filter((s) => s.moderated === -1).map((s) => s.id).sort()).toEqual(["0", "2", "3"]);
    expect(ex.statements.find((s) => s.id === "10")!.body).toMatch(/^My e/); // quoted body with commas
    expect(ex.rawVoteRows).toBe(640);
    // Two (participant, statement) pairs are voted twice (14 on 10, 5 on 25): latest per pair kept.
    expect(ex.votes).toHaveLength(638);
    expect(ex.participants).toHaveLength(26);
    expect(ex.summary["groups"]).toBe("3");
    expect(voteMatrix(ex.votes).statements).toHaveLength(Number(ex.summary["comments"]));
  });

  it("uses the export sign convention (1 agree, -1 disagree): counts match comments.csv", () => {
    // comments.csv counts raw vote rows, duplicates included.
    const counts = (votes: typeof ex.votes, id: string) => {
      const mine = votes.filter((v) => v.statement === id);
      return [mine.filter((v) => v.value === 1).length, mine.filter((v) => v.value === -1).length];
    };
    const differ: string[] = [];
    for (const s of ex.statements) {
      const [da, dd] = counts(ex.votes, s.id);
      if (da !== s.agrees || dd !== s.disagrees) differ.push(s.id);
    }
    // After the latest-per-pair dedupe only the two re-voted statements lose one agree each.
    expect(differ.sort()).toEqual(["10", "25"]);
    for (const s of ex.statements) {
      const mine = ex.rawVotes.filter((v) => v.statement === s.id);
      expect([mine.filter((v) => v.value === 1).length, mine.filter((v) => v.value === -1).length]).toEqual([
        s.agrees,
        s.disagrees,
      ]);
    }
  });

  it("round-trips through writePolisExport", () => {
    const dir = mkdtempSync(join(tmpdir(), "polis-"));
    try {
      writePolisExport(dir, ex);
      const back = readPolisExport(dir);
      expect(denseVotes(voteMatrix(back.votes))).toEqual(denseVotes(voteMatrix(ex.votes)));
      expect(back.statements).toEqual(ex.statements);
      expect(back.participants.map((p) => [p.id, p.group]).sort()).toEqual(ex.participants.map((p) => [p.id, p.group]).sort());
      expect(back.summary).toEqual(ex.summary);
      expect(readFileSync(join(dir, "participants-votes.csv"), "utf8").split("\n")[0]).toBe(
        readFileSync(join(DIR, "participants-votes.csv"), "utf8").split("\n")[0],
      );
      // Without timestamps a deterministic fallback is written.
      const dir2 = mkdtempSync(join(tmpdir(), "polis-"));
      writePolisExport(dir2, { statements: [{ id: "1", author: "a", body: 'x, "y"', moderated: 1, agrees: 1, disagrees: 0 }], votes: [{ participant: "p", statement: "1", value: 1 }] });
      expect(readPolisExport(dir2).statements[0]!.body).toBe('x, "y"');
      expect(readFileSync(join(dir2, "votes.csv"), "utf8")).toContain("1577836800000");
      rmSync(dir2, { recursive: true, force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
