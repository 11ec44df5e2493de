/**
 * Three-way merge of policy content (src/policies/merge.ts): a small
 * community policy forked and changed on both sides, then the real Model
 * Spec with about a tenth of its clauses edited on each side.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { clauseSchema, policyContentSchema, type PolicyContent } from "../src/policies/content.ts";
import { clauseOf, edit, ids, ordered, parse, withClause, without } from "./content-builders.ts";
import { canonicalJson } from "../src/policies/hash.ts";
import { importModelSpec } from "../src/policies/import/modelspec.ts";
import {
  MergeResolutionError,
  mergeContents,
  resolveMerge,
  resolutionsSchema,
  type ClauseConflict,
  type Conflict,
  type MergeResult,
  type SectionConflict,
} from "../src/policies/merge.ts";

const base = policyContentSchema.parse({
  title: "Riverside library assistant",
  summary: "How the library's reference assistant behaves.",
  licence: "CC-BY-4.0",
  contexts: [{ domain: ["libraries"] }],
  sections: [
    { id: "safety", title: "Safety", parent: null },
    { id: "honesty", title: "Honesty", parent: null },
    { id: "tone", title: "Tone", parent: "honesty", text: "How answers sound." },
  ],
  clauses: [
    { id: "no-weapons", section: "safety", authority: "root", text: "Do not help anyone build weapons capable of mass casualties." },
    { id: "self-harm", section: "safety", authority: "system", text: "Point people in crisis to local support lines." },
    { id: "no-lies", section: "honesty", authority: "user", text: "Never state what you believe to be false.", tags: ["honesty"] },
    { id: "admit-uncertainty", section: "honesty", authority: "guideline", text: "Say when you are unsure." },
    { id: "warm-tone", section: "tone", authority: "guideline", text: "Be warm without being effusive." },
    { id: "concise", section: "tone", authority: "guideline", text: "Prefer short answers to long ones." },
  ],
});


function expectValid(content: PolicyContent): void {
  const result = policyContentSchema.safeParse(content);
  expect(result.success ? [] : result.error.issues).toEqual([]);
}

function merge(ours: PolicyContent, theirs: PolicyContent, from = base): MergeResult {
  const result = mergeContents(from, ours, theirs);
  expectValid(result.merged);
  return result;
}

function clauseConflict(result: MergeResult, id: string): ClauseConflict {
  const found = result.conflicts.find((c): c is ClauseConflict => c.target === "clause" && c.clauseId === id);
  if (!found) throw new Error(`no conflict on ${id}`);
  return found;
}

function resolutionError(run: () => unknown): MergeResolutionError {
  try {
    run();
  } catch (error) {
    if (error instanceof MergeResolutionError) return error;
    throw error;
  }
  throw new Error("expected a MergeResolutionError");
}

describe("clauses", () => {
  it("keeps everything when nothing changed, and takes ours when only ours changed", () => {
    const same = merge(base, base);
    expect(same.merged).toEqual(base);
    expect(same.conflicts).toEqual([]);
    expect(same.summary).toMatchObject({ clauses: 6, unchanged: 6, fromOurs: 0, fromTheirs: 0, both: 0, conflicts: 0 });

    const ours = edit(base, "concise", { text: "Answer in three sentences or fewer." });
    const result = merge(ours, base);
    expect(result.merged).toEqual(ours);
    expect(result.clean.fromOurs).toEqual(["concise"]);
  });

  it("takes upstream's edit of one clause and reports a conflict on a clause both edited", () => {
    const ours = edit(base, "no-lies", { text: "Never state what you know to be false." });
    const theirs = edit(edit(base, "admit-uncertainty", { text: "Say when you are unsure, and why." }), "no-lies", {
      text: "Never state falsehoods.",
      tags: ["honesty", "core"],
    });
    const result = merge(ours, theirs);
    expect(result.clean).toMatchObject({ fromTheirs: ["admit-uncertainty"], fromOurs: [], both: [] });
    expect(result.conflicts).toHaveLength(1);
    const conflict = clauseConflict(result, "no-lies");
    expect(conflict).toMatchObject({ key: "no-lies", kind: "edit/edit", fields: ["text", "tags"] });
    expect([conflict.base, conflict.ours, conflict.theirs]).toEqual([clauseOf(base, "no-lies"), clauseOf(ours, "no-lies"), clauseOf(theirs, "no-lies")]);
    // Provisionally ours; the upstream edit of the other clause is in.
    expect(clauseOf(result.merged, "no-lies")).toEqual(clauseOf(ours, "no-lies"));
    expect(clauseOf(result.merged, "admit-uncertainty")).toEqual(clauseOf(theirs, "admit-uncertainty"));
    expect(result.summary).toMatchObject({ unchanged: 4, fromTheirs: 1, clauseConflicts: 1, conflicts: 1 });
  });

  it("merges identical changes on both sides cleanly", () => {
    const change = (c: PolicyContent) =>
      withClause(without(edit(c, "concise", { text: "Be brief." }), "self-harm"), { id: "cite", authority: "user", text: "Cite the catalogue." }, "no-lies");
    const result = merge(change(base), change(base));
    expect(result.conflicts).toEqual([]);
    expect(result.merged).toEqual(change(base));
    expect([...result.clean.both].sort()).toEqual(["cite", "concise", "self-harm"]);
  });

  it("takes a removal from either side when the other left the clause alone", () => {
    const result = merge(without(base, "concise"), without(base, "self-harm"));
    expect(ids(result.merged)).toEqual(["no-weapons", "no-lies", "admit-uncertainty", "warm-tone"]);
    expect(result.clean).toMatchObject({ fromOurs: ["concise"], fromTheirs: ["self-harm"] });
  });

  it("reports edit/remove and remove/edit, keeping ours provisionally", () => {
    const ours = without(edit(base, "concise", { text: "Be brief." }), "warm-tone");
    const theirs = without(edit(base, "warm-tone", { authority: "user" }), "concise");
    const result = merge(ours, theirs);
    expect(clauseConflict(result, "concise")).toMatchObject({ kind: "edit/remove", fields: ["text"] });
    expect(clauseConflict(result, "concise").theirs).toBeUndefined();
    expect(clauseConflict(result, "warm-tone")).toMatchObject({ kind: "remove/edit", fields: ["authority"] });
    expect(clauseConflict(result, "warm-tone").ours).toBeUndefined();
    expect(ids(result.merged)).toContain("concise");
    expect(ids(result.merged)).not.toContain("warm-tone");
    // Absent sides are missing keys, so the conflict serialises cleanly.
    expect(Object.keys(clauseConflict(result, "concise"))).not.toContain("theirs");
  });

  it("reports add/add when both add a clause with the same id but different content", () => {
    const ours = withClause(base, { id: "cite", authority: "user", text: "Cite the catalogue entry." }, "no-lies");
    const theirs = withClause(base, { id: "cite", authority: "guideline", text: "Cite sources." }, null);
    const result = merge(ours, theirs);
    expect(clauseConflict(result, "cite")).toMatchObject({ kind: "add/add", fields: ["authority", "text"] });
    expect(clauseConflict(result, "cite").base).toBeUndefined();
    expect(ids(result.merged)).toEqual(ids(ours));
  });

  it("gives a clause id that looks like another key kind the explicit clause: prefix", () => {
    const odd = { id: "section:x", authority: "user", text: "An unlucky id." } as const;
    const result = merge(withClause(base, odd, null), withClause(base, { ...odd, text: "Another." }, null));
    expect(result.conflicts.map((c) => c.key)).toEqual(["clause:section:x"]);
    const resolved = resolveMerge(result, { "clause:section:x": "theirs" });
    expect(clauseOf(resolved, "section:x").text).toBe("Another.");
  });

  it("does not modify its inputs", () => {
    const ours = edit(without(base, "self-harm"), "concise", { text: "Be brief." });
    const theirs = ordered(edit(base, "concise", { text: "Be short." }), ["concise", ...ids(base).filter((id) => id !== "concise")]);
    const snapshot = canonicalJson([base, ours, theirs]);
    const result = mergeContents(base, ours, theirs);
    resolveMerge(result, { concise: "theirs" });
    expect(canonicalJson([base, ours, theirs])).toBe(snapshot);
  });
});

describe("metadata and sections", () => {
  it("merges metadata field by field and reports a field both changed", () => {
    const ours = parse({ ...base, title: "Riverside library assistant (Swahili)", contexts: [{ locale: ["sw"] }] });
    const theirs = parse({ ...base, summary: "How the reference assistant behaves.", contexts: [{ domain: ["archives"] }] });
    const result = merge(ours, theirs);
    expect(result.merged.title).toBe(ours.title);
    expect(result.merged.summary).toBe(theirs.summary);
    expect(result.clean.metadata).toEqual({ fromTheirs: ["summary"], fromOurs: ["title"], both: [] });
    expect(result.conflicts).toEqual([
      { target: "metadata", key: "metadata:contexts", kind: "metadata", field: "contexts", base: base.contexts, ours: ours.contexts, theirs: theirs.contexts, fields: ["contexts"] },
    ]);
    expect(result.merged.contexts).toEqual(ours.contexts);
  });

  it("merges sections by id like clauses", () => {
    const ours = parse({ ...base, sections: base.sections.map((s) => (s.id === "tone" ? { ...s, title: "Voice" } : s)) });
    const theirs = parse({
      ...base,
      sections: base.sections.map((s) => (s.id === "tone" ? { ...s, title: "Style" } : s.id === "safety" ? { ...s, text: "Above all else." } : s)),
    });
    const result = merge(ours, theirs);
    expect(result.clean.sections.fromTheirs).toEqual(["safety"]);
    const conflict = result.conflicts[0] as SectionConflict;
    expect(conflict).toMatchObject({ target: "section", key: "section:tone", sectionId: "tone", kind: "edit/edit", fields: ["title"] });
    expect(result.merged.sections.map((s) => s.title)).toEqual(["Safety", "Honesty", "Voice"]);
  });

  it("keeps a section upstream removed while ours still puts a clause in it", () => {
    const ours = withClause(base, { id: "no-scams", section: "safety", authority: "root", text: "Do not help defraud patrons." }, "self-harm");
    const theirs = parse({ ...without(base, "no-weapons", "self-harm"), sections: base.sections.filter((s) => s.id !== "safety") });
    const result = merge(ours, theirs);
    expect(result.clean.fromTheirs).toEqual(["no-weapons", "self-harm"]);
    expect(ids(result.merged)).toEqual(["no-scams", "no-lies", "admit-uncertainty", "warm-tone", "concise"]);
    expect(result.merged.sections.map((s) => s.id)).toEqual(["safety", "honesty", "tone"]);
    expect(result.clean.sections.fromTheirs).toEqual([]);
    expect(result.conflicts).toEqual([
      expect.objectContaining({ key: "section:safety", kind: "removed-in-use", usedBy: ["no-scams"], ours: base.sections[0], base: base.sections[0] }),
    ]);

    // Taking upstream's removal fails while the clause still needs the section.
    const error = resolutionError(() => resolveMerge(result, { "section:safety": "theirs" }));
    expect(error.problems).toEqual(['clause "no-scams" section: unknown section "safety"']);
    expect(resolveMerge(result, { "section:safety": "ours" })).toEqual(result.merged);
  });

  it("keeps a section (and its parent) ours removed while upstream adds a clause to it", () => {
    const ours = parse({ ...without(base, "no-lies", "admit-uncertainty", "warm-tone", "concise"), sections: [base.sections[0]!] });
    const theirs = withClause(base, { id: "formal-address", section: "tone", authority: "user", text: "Address patrons formally." }, "concise");
    const result = merge(ours, theirs);
    expect(ids(result.merged)).toEqual(["no-weapons", "self-harm", "formal-address"]);
    expect(result.merged.sections.map((s) => s.id)).toEqual(["safety", "honesty", "tone"]);
    expect(result.conflicts.map((c) => [c.key, c.kind, (c as SectionConflict).usedBy])).toEqual([
      ["section:tone", "removed-in-use", ["formal-address"]],
      ["section:honesty", "removed-in-use", ["tone"]],
    ]);
  });
});

describe("order", () => {
  it("places an upstream addition after its upstream predecessor, in ours' order", () => {
    const ours = withClause(ordered(base, ["no-weapons", "self-harm", "concise", "warm-tone", "no-lies", "admit-uncertainty"]), { id: "ours-new", authority: "user", text: "Ours." }, "no-weapons");
    const theirs = withClause(
      withClause(withClause(base, { id: "lead", authority: "user", text: "First." }, null), { id: "t1", authority: "user", text: "One." }, "warm-tone"),
      { id: "t2", authority: "user", text: "Two." },
      "t1",
    );
    const result = merge(ours, theirs);
    expect(ids(result.merged)).toEqual(["lead", "no-weapons", "ours-new", "self-harm", "concise", "warm-tone", "t1", "t2", "no-lies", "admit-uncertainty"]);
  });

  it("falls back to an earlier upstream neighbour when ours removed the predecessor", () => {
    const theirs = withClause(base, { id: "new", authority: "user", text: "New." }, "self-harm");
    const result = merge(without(base, "self-harm"), theirs);
    expect(ids(result.merged)).toEqual(["no-weapons", "new", "no-lies", "admit-uncertainty", "warm-tone", "concise"]);
  });

  it("applies reorders done upstream only", () => {
    const theirs = ordered(base, ["no-weapons", "no-lies", "self-harm", "admit-uncertainty", "concise", "warm-tone"]);
    const ours = edit(base, "concise", { text: "Be brief." });
    const result = merge(ours, theirs);
    expect(ids(result.merged)).toEqual(ids(theirs));
    expect(result.order.clauses.applied.length).toBe(result.summary.movesApplied);
    expect(result.summary.movesApplied).toBe(2);
    expect(result.conflicts).toEqual([]);
  });

  it("keeps ours' place for a clause both sides moved, and anchors upstream moves on neighbours ours left alone", () => {
    const both = merge(ordered(base, ["concise", ...ids(base).slice(0, 5)]), ordered(base, ["no-weapons", "concise", ...ids(base).slice(1, 5)]));
    expect(ids(both.merged)[0]).toBe("concise");
    expect(both.order.clauses).toEqual({ applied: [], keptOurs: ["concise"] });
    expect(both.summary.movesKeptOurs).toBe(1);

    // Ours moved "warm-tone" first; upstream moved "no-weapons" last.
    const ours = ordered(base, ["warm-tone", "no-weapons", "self-harm", "no-lies", "admit-uncertainty", "concise"]);
    const theirs = ordered(base, ["self-harm", "no-lies", "admit-uncertainty", "warm-tone", "concise", "no-weapons"]);
    expect(ids(merge(ours, theirs).merged)).toEqual(["warm-tone", "self-harm", "no-lies", "admit-uncertainty", "concise", "no-weapons"]);
  });
});

describe("resolveMerge", () => {
  const ours = parse({
    ...without(edit(edit(base, "no-lies", { text: "Never knowingly state falsehoods." }), "concise", { text: "Be brief." }), "warm-tone"),
    title: "Riverside assistant",
  });
  const theirs = parse({
    ...without(edit(edit(edit(base, "no-lies", { text: "Do not lie." }), "warm-tone", { text: "Be kind." }), "self-harm", { text: "Refer to crisis lines." }), "concise"),
    title: "Riverside library bot",
  });
  const result = mergeContents(base, ours, theirs);

  it("sets up four conflicts", () => {
    expect(result.conflicts.map((c: Conflict) => [c.key, c.kind])).toEqual([
      ["metadata:title", "metadata"],
      ["no-lies", "edit/edit"],
      ["concise", "edit/remove"],
      ["warm-tone", "remove/edit"],
    ]);
  });

  it("applies ours, theirs, a replacement clause and null, placing a clause brought back where upstream has it", () => {
    const replacement = clauseSchema.parse({ id: "no-lies", section: "honesty", authority: "root", text: "Never lie." });
    const resolved = resolveMerge(result, { "metadata:title": "theirs", "no-lies": replacement, concise: null, "warm-tone": "theirs" });
    expectValid(resolved);
    expect(resolved.title).toBe("Riverside library bot");
    expect(ids(resolved)).toEqual(["no-weapons", "self-harm", "no-lies", "admit-uncertainty", "warm-tone"]);
    expect(clauseOf(resolved, "no-lies")).toEqual(replacement);
    expect(clauseOf(resolved, "warm-tone").text).toBe("Be kind.");
    expect(clauseOf(resolved, "self-harm").text).toBe("Refer to crisis lines.");

    const allOurs = resolveMerge(result, { "metadata:title": "ours", "no-lies": "ours", concise: "ours", "warm-tone": "ours" });
    expect(allOurs).toEqual(result.merged);
  });

  it("reads resolutions from JSON, filling a replacement clause's id from its key", () => {
    const file = JSON.parse(
      '{ "metadata:title": "ours", "no-lies": { "section": "honesty", "authority": "user", "text": "Be truthful." }, "concise": "theirs", "warm-tone": null }',
    );
    const resolved = resolveMerge(result, resolutionsSchema.parse(file));
    expect(clauseOf(resolved, "no-lies").text).toBe("Be truthful.");
    expect(ids(resolved)).toEqual(["no-weapons", "self-harm", "no-lies", "admit-uncertainty"]);
  });

  it("lists every problem: missing, unknown, duplicate and malformed resolutions", () => {
    const error = resolutionError(() => resolveMerge(result, { "metadata:title": "ours", "no-lies": "ours", "clause:no-lies": "theirs", "self-harm": "ours" }));
    expect(error.name).toBe("MergeResolutionError");
    expect(error.problems).toEqual([
      '"clause:no-lies" and "no-lies" resolve the same conflict',
      '"self-harm" is not a conflict of this merge',
      'no resolution for "concise" (edit/remove conflict)',
      'no resolution for "warm-tone" (remove/edit conflict)',
    ]);
    expect(error.message).toContain("4 problems");

    const malformed = resolutionError(() =>
      resolveMerge(result, { "metadata:title": null, "no-lies": { ...clauseOf(ours, "no-lies"), id: "other" }, concise: "ours", "warm-tone": "mine" } as never),
    );
    expect(malformed.problems).toEqual(['warm-tone: must be "ours", "theirs", null or a clause (section) object']);
    const wrongObjects = resolutionError(() => resolveMerge(result, { "metadata:title": null, "no-lies": { ...clauseOf(ours, "no-lies"), id: "other" }, concise: "ours", "warm-tone": "ours" }));
    expect(wrongObjects.problems).toEqual(['metadata:title: a metadata conflict takes "ours" or "theirs"', 'no-lies.id: the clause\'s id "other" does not match its key']);
  });

  it("rejects a replacement that makes the document invalid", () => {
    const stray = clauseSchema.parse({ id: "no-lies", section: "nowhere", authority: "user", text: "Be truthful." });
    const error = resolutionError(() => resolveMerge(result, { "metadata:title": "ours", "no-lies": stray, concise: "ours", "warm-tone": "ours" }));
    expect(error.problems).toEqual(['clause "no-lies" section: unknown section "nowhere"']);
  });
});

describe("the Model Spec", () => {
  const spec = importModelSpec(readFileSync(new URL("./fixtures/model_spec/model_spec.md", import.meta.url), "utf8")).content;
  const n = spec.clauses.length;
  const at = (i: number) => spec.clauses[i]!.id;
  const rewrite = (content: PolicyContent, indexes: number[], note: string) =>
    parse({ ...content, clauses: content.clauses.map((c, i) => (indexes.includes(i) ? { ...c, text: `${c.text}\n\n${note}` } : c)) });

  it("merges a tenth of the clauses edited on each side, with some overlap", () => {
    // Ours edits every tenth clause from 0; upstream every tenth from 5, plus
    // clause 10 differently and clause 20 identically. Upstream also adds a
    // clause after clause 3; ours removes the last clause.
    const oursEdits = [0, 10, 20, 30, 40, 50];
    const theirsEdits = [5, 15, 25, 35, 45, 55];
    const ours = without(rewrite(rewrite(spec, oursEdits.filter((i) => i !== 20), "Local note."), [20], "Shared note."), at(n - 1));
    const theirs = withClause(rewrite(rewrite(rewrite(spec, theirsEdits, "Upstream note."), [10], "Other note."), [20], "Shared note."), {
      id: "upstream-addition",
      section: spec.clauses[3]!.section,
      authority: "guideline",
      text: "A clause upstream added.",
    }, at(3));

    const started = performance.now();
    const result = mergeContents(spec, ours, theirs);
    const elapsed = performance.now() - started;
    console.log(`mergeContents on the Model Spec (${n} clauses, ${spec.sections.length} sections): ${elapsed.toFixed(1)} ms`);

    expectValid(result.merged);
    expect(n).toBeGreaterThan(56);
    expect(result.conflicts.map((c) => c.key)).toEqual([at(10)]);
    expect(result.clean.fromOurs).toEqual([0, 30, 40, 50].map(at).concat(at(n - 1)));
    // Ids come in ours' order, then those only upstream has.
    expect(result.clean.fromTheirs).toEqual([...theirsEdits.map(at), "upstream-addition"]);
    expect(result.clean.both).toEqual([at(20)]);
    expect(result.summary).toMatchObject({ clauses: n, unchanged: n - 13, fromOurs: 5, fromTheirs: 7, both: 1, conflicts: 1, movesApplied: 0 });
    expect(ids(result.merged).indexOf("upstream-addition")).toBe(4);

    const resolved = resolveMerge(result, { [at(10)]: "theirs" });
    expect(clauseOf(resolved, at(10)).text.endsWith("Other note.")).toBe(true);
  });
});
