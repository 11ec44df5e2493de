import { describe, expect, it } from "vitest";
import { AUTHORITY_LEVELS, clauseSchema, policyContentSchema, type Clause, type PolicyContent, type PolicyContentInput } from "../src/policies/content.ts";
import {
  diffContents,
  diffToText,
  diffWords,
  isEmptyDiff,
  longestIncreasingSubsequence,
  markWords,
  summariseDiff,
  type WordDiffPart,
} from "../src/policies/diff.ts";
import { canonicalJson } from "../src/policies/hash.ts";

function parse(input: PolicyContentInput): PolicyContent {
  return policyContentSchema.parse(input);
}

type ClauseInput = NonNullable<PolicyContentInput["clauses"]>[number];

function clause(id: string, text = `Text of ${id}.`, extra: Partial<ClauseInput> = {}): ClauseInput {
  return { id, authority: "user", text, ...extra };
}

function policy(ids: string[], extra: Partial<PolicyContentInput> = {}): PolicyContent {
  return parse({ title: "Policy", licence: "CC0-1.0", clauses: ids.map((id) => clause(id)), ...extra });
}

function joined(parts: WordDiffPart[], without: WordDiffPart["kind"]): string {
  return parts.filter((part) => part.kind !== without).map((part) => part.value).join("");
}

describe("moves", () => {
  it("does not count clauses shifted by an insertion or a removal as moved", () => {
    const diff = diffContents(policy(["a", "b", "c", "d"]), policy(["new", "a", "c", "d", "tail"]));
    expect(diff.clauses.added.map(({ id, index }) => [id, index])).toEqual([
      ["new", 0],
      ["tail", 4],
    ]);
    expect(diff.clauses.removed.map(({ id, index }) => [id, index])).toEqual([["b", 1]]);
    expect(diff.clauses.moved).toEqual([]);
    expect(diff.clauses.unchanged).toBe(3);
    expect(diff.summary).toEqual({ added: 2, removed: 1, moved: 0, edited: 0 });
  });

  it("finds the one clause that moved, however far", () => {
    const diff = diffContents(policy(["a", "b", "c", "d", "e"]), policy(["b", "c", "d", "e", "a"]));
    expect(diff.clauses.moved).toEqual([{ id: "a", fromIndex: 0, toIndex: 4 }]);
    expect(diff.clauses.unchanged).toBe(4);
  });

  it("counts a swap as one move and a reversal of four as three", () => {
    expect(diffContents(policy(["a", "b"]), policy(["b", "a"])).clauses.moved).toHaveLength(1);
    expect(diffContents(policy(["a", "b", "c", "d"]), policy(["d", "c", "b", "a"])).clauses.moved).toHaveLength(3);
  });

  it("reports a clause both moved and edited in both lists", () => {
    const from = policy(["a", "b", "c"]);
    const to = parse({ title: "Policy", licence: "CC0-1.0", clauses: [clause("b"), clause("c"), clause("a", "New text of a.")] });
    const diff = diffContents(from, to);
    expect(diff.clauses.moved.map((move) => move.id)).toEqual(["a"]);
    expect(diff.clauses.edited.map((edit) => edit.id)).toEqual(["a"]);
    expect(diff.clauses.unchanged).toBe(2);
  });

  it("longestIncreasingSubsequence picks one longest run", () => {
    expect([...longestIncreasingSubsequence([])]).toEqual([]);
    expect([...longestIncreasingSubsequence([3, 0, 1, 4, 2, 5])].sort()).toEqual([1, 2, 4, 5]);
    expect(longestIncreasingSubsequence([4, 3, 2, 1]).size).toBe(1);
  });
});

describe("edits", () => {
  const from = parse({
    title: "Policy",
    licence: "CC0-1.0",
    sections: [
      { id: "s1", title: "One", parent: null },
      { id: "s2", title: "Two", parent: null },
    ],
    clauses: [
      {
        id: "c1",
        section: "s1",
        authority: "developer",
        title: "Refusals",
        text: "The assistant should refuse harmful requests.",
        rationale: "Safety first.",
        tags: ["safety"],
      },
    ],
  });
  const to = parse({
    title: "Policy",
    licence: "CC0-1.0",
    sections: [
      { id: "s1", title: "One", parent: null },
      { id: "s2", title: "Two", parent: null },
    ],
    clauses: [
      {
        id: "c1",
        section: "s2",
        authority: "system",
        title: "Refusals",
        text: "The assistant must refuse clearly harmful requests.",
        rationale: "Safety first.",
        tags: ["safety", "refusal"],
        context: { domain: ["medical"] },
        examples: [{ prompt: [{ role: "user", content: "hi" }], responses: [{ content: "hello", label: "good" }] }],
      },
    ],
  });

  it("lists the changed fields with a word diff of the text and before/after of the rest", () => {
    const [edit] = diffContents(from, to).clauses.edited;
    expect(edit).toBeDefined();
    expect(edit!.changes).toEqual(["section", "authority", "text", "context", "examples", "tags"]);
    expect(edit!.text).toEqual([
      { kind: "same", value: "The assistant " },
      { kind: "removed", value: "should" },
      { kind: "added", value: "must" },
      { kind: "same", value: " refuse " },
      { kind: "added", value: "clearly " },
      { kind: "same", value: "harmful requests." },
    ]);
    expect(edit!.rationale).toBeUndefined();
    expect(edit!.fields).toEqual({
      section: { before: "s1", after: "s2" },
      authority: { before: "developer", after: "system" },
      context: { before: {}, after: { domain: ["medical"] } },
      examples: { before: [], after: to.clauses[0]!.examples },
      tags: { before: ["safety"], after: ["safety", "refusal"] },
    });
  });

  it("diffs the rationale by words when it changes", () => {
    const changed = structuredClone(from);
    changed.clauses[0]!.rationale = "Safety always comes first.";
    const [edit] = diffContents(from, changed).clauses.edited;
    expect(edit!.changes).toEqual(["rationale"]);
    expect(joined(edit!.rationale!, "added")).toBe("Safety first.");
    expect(joined(edit!.rationale!, "removed")).toBe("Safety always comes first.");
  });

  it("reports metadata and section changes", () => {
    const before = parse({
      title: "Policy",
      licence: "CC0-1.0",
      sections: [
        { id: "a", title: "A", parent: null },
        { id: "b", title: "B", parent: null },
        { id: "gone", title: "Gone", parent: null },
      ],
    });
    const after = parse({
      title: "Better policy",
      summary: "Now with a summary.",
      licence: "CC0-1.0",
      contexts: [{ domain: ["education"] }],
      sections: [
        { id: "b", title: "B", parent: null, text: "Intro." },
        { id: "a", title: "A", parent: "b" },
        { id: "new", title: "New", parent: null },
      ],
    });
    const diff = diffContents(before, after);
    expect(diff.metadata).toEqual({
      title: { before: "Policy", after: "Better policy" },
      summary: { before: "", after: "Now with a summary." },
      contexts: { before: [], after: [{ domain: ["education"] }] },
    });
    expect(diff.sections.added.map((s) => s.id)).toEqual(["new"]);
    expect(diff.sections.removed.map((s) => s.id)).toEqual(["gone"]);
    expect(diff.sections.moved).toHaveLength(1);
    expect(diff.sections.changed.map(({ id, changes }) => [id, changes])).toEqual([
      ["b", ["text"]],
      ["a", ["parent"]],
    ]);
    expect(summariseDiff(diff)).toBe("1 section added, 1 removed, 2 changed, 1 moved; title, summary and contexts of use changed");
  });

  it("finds nothing between equal contents, whatever their key order", () => {
    const copy = parse(JSON.parse(JSON.stringify(to)));
    const diff = diffContents(to, copy);
    expect(isEmptyDiff(diff)).toBe(true);
    expect(diff.clauses.unchanged).toBe(1);
    expect(summariseDiff(diff)).toBe("No changes");
    expect(isEmptyDiff(diffContents(from, to))).toBe(false);
  });
});

describe("diffWords", () => {
  it("keeps every character, including whitespace and newlines", () => {
    const before = "First  line.\n\nSecond line, with commas; and more.";
    const after = "First line.\nSecond line with commas and more!\n";
    const parts = diffWords(before, after);
    expect(joined(parts, "added")).toBe(before);
    expect(joined(parts, "removed")).toBe(after);
  });

  it("handles empty sides", () => {
    expect(diffWords("", "")).toEqual([]);
    expect(diffWords("", "new")).toEqual([{ kind: "added", value: "new" }]);
    expect(diffWords("old", "")).toEqual([{ kind: "removed", value: "old" }]);
  });

  it("reports a wholesale rewrite of long texts as one removal and one addition, quickly", () => {
    const random = rng(7);
    const before = words(random, 6000);
    const after = words(random, 6000);
    const parts = diffWords(before, after);
        expect(parts.map((part) => part.kind)).toEqual(["removed", "added"]);
  });
});

describe("summariseDiff and diffToText", () => {
  it("summarises clause changes the way changelogs read", () => {
    const from = policy(["a", "b", "c", "d", "e"]);
    const to = parse({
      title: "Policy",
      licence: "CC0-1.0",
      clauses: [clause("x"), clause("b", "Edited b."), clause("c", "Edited c."), clause("d", "Edited d."), clause("y"), clause("e")],
    });
    expect(summariseDiff(diffContents(from, to))).toBe("2 clauses added, 1 removed, 3 edited");
    const edited = parse({ title: "Policy", licence: "CC0-1.0", clauses: [clause("a", "Changed.")] });
    expect(summariseDiff(diffContents(policy(["a"]), edited))).toBe("1 clause edited");
    expect(summariseDiff(diffContents(policy(["a"]), policy(["a"], { title: "New" })))).toBe("Title changed");
  });

  it("prints a terminal diff with wdiff-style word marks", () => {
    const from = parse({
      title: "Policy",
      licence: "CC0-1.0",
      clauses: [clause("a", "Be polite and brief.", { title: "Politeness" }), clause("b"), clause("c"), clause("gone")],
    });
    const to = parse({
      title: "Policy",
      licence: "MIT",
      clauses: [clause("c"), clause("a", "Be polite and concise.", { title: "Politeness", tags: ["tone"] }), clause("b"), clause("new")],
    });
    const text = diffToText(diffContents(from, to));
    expect(text.split("\n")).toEqual([
      "~ licence: [-CC0-1.0-]{+MIT+}",
      "+ clause new at 4",
      "- clause gone (was 4)",
      "> clause c moved 3 -> 1",
      "~ clause a: text, tags changed",
      "    text: Be polite and [-brief-]{+concise+}.",
      '    tags: [] -> ["tone"]',
      "1 clause added, 1 removed, 1 edited, 1 moved; licence changed",
    ]);
  });

  it("shortens long unchanged stretches", () => {
    const long = "word ".repeat(100);
    const marked = markWords(diffWords(`${long}old ${long}`, `${long}new ${long}`));
    expect(marked).toMatch(/^….{40}\[-old-\]\{\+new\+\}.{40}…$/);
  });
});

describe("a Model Spec sized policy", () => {
  it("diffs 80 clauses (~270 KB) with 10% edited, plus adds, a removal and a move", () => {
    const random = rng(42);
    const from = syntheticSpec(random);
    const size = canonicalJson(from).length;
    expect(size).toBeGreaterThan(250_000);
    expect(size).toBeLessThan(300_000);

    const to = structuredClone(from);
    const editedIds: string[] = [];
    for (let i = 3; i < 80; i += 10) {
      const target = to.clauses[i]!;
      target.text = substituteWords(random, target.text, 5);
      if (i % 20 === 3) target.rationale = substituteWords(random, target.rationale, 2);
      if (i === 43) target.tags = [...target.tags, "reviewed"];
      editedIds.push(target.id);
    }
    const [removed] = to.clauses.splice(10, 1);
    const [moved] = to.clauses.splice(60, 1);
    to.clauses.splice(5, 0, moved!);
    const added = [syntheticClause(random, "new-1", 3000), syntheticClause(random, "new-2", 3000)];
    to.clauses.splice(20, 0, added[0]!);
    to.clauses.push(added[1]!);

    const started = performance.now();
    const diff = diffContents(from, to);
    const elapsed = performance.now() - started;
    console.log(`diffContents on a ${Math.round(size / 1024)} KB, 80-clause policy (8 edited): ${elapsed.toFixed(1)} ms`);

    expect(diff.summary).toEqual({ added: 2, removed: 1, moved: 1, edited: 8 });
    expect(diff.clauses.removed.map((c) => c.id)).toEqual([removed!.id]);
    expect(diff.clauses.moved.map((m) => m.id)).toEqual([moved!.id]);
    expect(diff.clauses.added.map(({ id, index }) => [id, index])).toEqual([
      ["new-1", 20],
      ["new-2", to.clauses.length - 1],
    ]);
    expect(diff.clauses.edited.map((edit) => edit.id).sort()).toEqual(editedIds.sort());
    expect(diff.clauses.unchanged).toBe(80 - 1 - 1 - 8);
    for (const edit of diff.clauses.edited) {
      const before = from.clauses[edit.fromIndex]!;
      const after = to.clauses[edit.toIndex]!;
      expect(joined(edit.text!, "added")).toBe(before.text);
      expect(joined(edit.text!, "removed")).toBe(after.text);
      // Five substituted words, not a wholesale rewrite.
      expect(edit.text!.filter((part) => part.kind !== "same").length).toBeLessThanOrEqual(10);
    }
    expect(summariseDiff(diff)).toBe("2 clauses added, 1 removed, 8 edited, 1 moved");
  });
});

// Deterministic pseudo-random numbers (mulberry32), so the synthetic policy is the same every run.
function rng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VOCABULARY = (
  "the assistant should must never always user developer system model request response harmful helpful honest " +
  "refuse explain context instructions safety privacy information content policy guideline example follow " +
  "consider provide avoid appropriate clearly when unless however because important default behaviour " +
  "language tone respect autonomy factual accurate uncertain sources legal medical advice creative writing"
).split(" ");

function words(random: () => number, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(VOCABULARY[Math.floor(random() * VOCABULARY.length)]!);
    if (i % 17 === 16) out[out.length - 1] += ".";
    if (i % 90 === 89) out[out.length - 1] += "\n\n";
  }
  return out.join(" ");
}

function charsOfWords(random: () => number, chars: number): string {
  return words(random, Math.round(chars / 7.5));
}

function syntheticClause(random: () => number, id: string, textChars: number): Clause {
  return clauseSchema.parse({
    id,
    title: charsOfWords(random, 40),
    authority: AUTHORITY_LEVELS[Math.floor(random() * AUTHORITY_LEVELS.length)],
    text: charsOfWords(random, textChars),
    rationale: charsOfWords(random, 300),
    tags: ["synthetic"],
    examples: [
      {
        prompt: [{ role: "user", content: charsOfWords(random, 120) }],
        responses: [
          { content: charsOfWords(random, 150), label: "good" },
          { content: charsOfWords(random, 150), label: "bad" },
        ],
      },
    ],
  });
}

function syntheticSpec(random: () => number): PolicyContent {
  const clauses = Array.from({ length: 80 }, (_, i) => syntheticClause(random, `clause-${i}`, 2300));
  return parse({ title: "Synthetic Model Spec", licence: "CC0-1.0", clauses });
}

function substituteWords(random: () => number, text: string, count: number): string {
  const tokens = text.split(" ");
  for (let i = 0; i < count; i++) {
    const at = Math.floor(random() * tokens.length);
    tokens[at] = `changed${i}`;
  }
  return tokens.join(" ");
}
