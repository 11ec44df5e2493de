import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { denseVotes, voteMatrix } from "../src/participation/opinions.ts";
import { PolisImportError, readPolisExport, writePolisExport } from "../src/participation/polis.ts";

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
      // Without timestamps the cells stay empty (never 1970 or a made-up date).
      const dir2 = mkdtempSync(join(tmpdir(), "polis-"));
      writePolisExport(dir2, { statements: [{ id: "1", author: "a", body: 'x, "y"', moderated: 1, agrees: 1, disagrees: 0 }], votes: [{ participant: "p", statement: "1", value: 1 }] });
      expect(readPolisExport(dir2).statements[0]!.body).toBe('x, "y"');
      expect(readFileSync(join(dir2, "votes.csv"), "utf8").split("\n")[1]).toBe(",,1,p,1");
      rmSync(dir2, { recursive: true, force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A copy of the London export with some lines of one file replaced (1-based line numbers). */
function corrupted(file: string, edit: (lines: string[]) => void): string {
  const dir = mkdtempSync(join(tmpdir(), "polis-bad-"));
  cpSync(DIR, dir, { recursive: true });
  const lines = readFileSync(join(dir, file), "utf8").split("\n");
  edit(lines);
  writeFileSync(join(dir, file), lines.join("\n"));
  return dir;
}

describe("imports that keep what they can", () => {
  it("skips a comment with an empty body, reports it by id and line, and imports every other comment", () => {
    const lines = readFileSync(join(DIR, "comments.csv"), "utf8").split("\n");
    const at = lines.findIndex((l) => /^\d+,[^,]*,12,/.test(l)); // comment 12
    const dir = corrupted("comments.csv", (ls) => (ls[at] = ls[at]!.replace(/,[^,]*$/, ',""')));
    try {
      const ex = readPolisExport(dir);
      expect(ex.statements).toHaveLength(38);
      expect(ex.statements.some((s) => s.id === "12")).toBe(false);
      expect(ex.skipped[0]).toEqual({ file: "comments.csv", line: at + 1, id: "12", problem: "empty comment-body" });
      // Its votes name a comment that was skipped: each is reported too, by voter and line.
      const orphaned = ex.skipped.filter((i) => i.file === "votes.csv");
      expect(orphaned.length).toBe(readPolisExport(DIR).rawVotes.filter((v) => v.statement === "12").length);
      expect(orphaned[0]!.problem).toMatch(/unknown comment 12/);
      expect(ex.votes.length + orphaned.length).toBe(638);
      expect(() => readPolisExport(dir, { strict: true })).toThrow(PolisImportError);
      expect(() => readPolisExport(dir, { strict: true })).toThrow(/comments\.csv:\d+ \(comment 12\): empty comment-body/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("skips bad vote values and missing timestamps with voter id and line, and reports extra columns", () => {
    const dir = corrupted("votes.csv", (ls) => {
      ls[0] = `${ls[0]},weight`;
      ls[1] = ls[1]!.replace(/,-?[01]$/, ",2");
      ls[2] = ls[2]!.replace(/^\d+,/, ",");
    });
    try {
      const ex = readPolisExport(dir);
      const voter = (n: number) => readFileSync(join(DIR, "votes.csv"), "utf8").split("\n")[n]!.split(",")[3]!;
      expect(ex.skipped).toEqual([
        { file: "votes.csv", line: 2, id: voter(1), problem: 'vote is "2", not 1, -1 or 0' },
        { file: "votes.csv", line: 3, id: voter(2), problem: expect.stringMatching(/^missing timestamp/) },
      ]);
      expect(ex.extraColumns).toEqual([{ file: "votes.csv", columns: ["weight"] }]);
      expect(ex.rawVoteRows).toBe(640);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads gzipped files (the larger conversations are kept as .csv.gz)", () => {
    const ex = readPolisExport("test/fixtures/polis/15-per-hour-seattle");
    expect(ex.statements).toHaveLength(54);
    expect(ex.participants).toHaveLength(339);
    expect(ex.skipped).toEqual([]);
    expect(ex.summary["groups"]).toBe("2");
  });
});
