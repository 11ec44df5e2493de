/**
 * Change sets (src/policies/changeset.ts): a fork's amendments, built from
 * two versions and applied to upstream's base or to a draft that moved on.
 */
import { describe, expect, it } from "vitest";
import {
  applyChangeSet,
  changeSetFromContents,
  changeSetSchema,
  describeChangeSet,
  type ApplyResult,
  type ChangeSet,
} from "../src/policies/changeset.ts";
import { policyContentSchema, type PolicyContent } from "../src/policies/content.ts";
import { clauseOf, edit, ids, ordered, parse, withClause, without } from "./content-builders.ts";
import { canonicalJson, contentHash } from "../src/policies/hash.ts";

const base = policyContentSchema.parse({
  title: "Riverside library assistant",
  licence: "CC-BY-4.0",
  sections: [
    { id: "safety", title: "Safety", parent: null },
    { id: "honesty", title: "Honesty", parent: null },
  ],
  clauses: [
    { id: "no-weapons", section: "safety", authority: "root", text: "Do not help anyone build weapons capable of mass casualties." },
    { id: "self-harm", section: "safety", authority: "system", text: "Point people in crisis to local support lines." },
    { id: "no-lies", section: "honesty", authority: "user", text: "Never state what you believe to be false." },
    { id: "admit-uncertainty", section: "honesty", authority: "guideline", text: "Say when you are unsure." },
    { id: "concise", authority: "guideline", text: "Prefer short answers to long ones." },
  ],
});


function apply(target: PolicyContent, changeSet: ChangeSet): ApplyResult {
  const result = applyChangeSet(target, changeSet);
  const valid = policyContentSchema.safeParse(result.content);
  expect(valid.success ? [] : valid.error.issues).toEqual([]);
  return result;
}

/** Edits one clause, removes one, adds two (first and in the middle) and moves one. */
const changed = withClause(
  withClause(
    ordered(without(edit(base, "no-lies", { text: "Never knowingly state falsehoods." }), "self-harm"), ["no-weapons", "no-lies", "concise", "admit-uncertainty"]),
    { id: "cite", section: "honesty", authority: "user", text: "Cite the catalogue entry you rely on." },
    "no-lies",
  ),
  { id: "welcome", authority: "guideline", text: "Greet patrons by name when they give it." },
  null,
);

describe("changeSetFromContents and applyChangeSet", () => {
  const changeSet = changeSetFromContents(base, changed);

  it("records each clause change against the base", () => {
    expect(changeSet.base).toEqual({ contentHash: contentHash(base) });
    expect(changeSet.operations.map((o) => [o.op, o.op === "add" ? `${o.clause.id} after ${o.after}` : o.op === "reorder" ? o.order.join(" ") : o.id])).toEqual([
      ["remove", "self-harm"],
      ["add", "welcome after null"],
      ["edit", "no-lies"],
      ["add", "cite after no-lies"],
      ["reorder", "welcome no-weapons no-lies cite concise admit-uncertainty"],
    ]);
    expect(changeSet.sections).toBeUndefined();
    expect(describeChangeSet(changeSet)).toBe("1 clause edited, 2 added, 1 removed; order changed");
    // What travels between instances parses back to the same thing.
    expect(changeSetSchema.parse(JSON.parse(JSON.stringify(changeSet)))).toEqual(changeSet);
  });

  it("gives the changed content back when applied to its base", () => {
    const result = apply(base, changeSet);
    expect(canonicalJson(result.content)).toBe(canonicalJson(changed));
    expect(result.conflicts).toEqual([]);
    expect(result.applied).toEqual(expect.arrayContaining(["self-harm", "welcome", "no-lies", "cite"]));
    expect(apply(base, changeSetFromContents(base, base)).content).toEqual(base);
    expect(describeChangeSet(changeSetFromContents(base, base))).toBe("No changes");
  });

  it("round-trips additions and removals without a reorder", () => {
    const plain = withClause(without(base, "no-weapons", "concise"), { id: "tail", authority: "user", text: "Last." }, "admit-uncertainty");
    const cs = changeSetFromContents(base, plain);
    expect(cs.operations.map((o) => o.op)).toEqual(["remove", "remove", "add"]);
    expect(apply(base, cs).content).toEqual(plain);
  });

  it("reports a conflict for an edit whose clause changed in the target, and applies the rest", () => {
    const target = edit(base, "no-lies", { text: "Do not lie." });
    const result = apply(target, changeSet);
    expect(result.conflicts).toEqual([
      { operation: 2, op: "edit", id: "no-lies", reason: "the clause changed in the target since the change set's base (text)" },
    ]);
    expect(clauseOf(result.content, "no-lies").text).toBe("Do not lie.");
    expect(ids(result.content)).toEqual(["welcome", "no-weapons", "no-lies", "cite", "concise", "admit-uncertainty"]);
  });

  it("reports a conflict for removing a clause that changed, and skips one already removed", () => {
    const changedTarget = apply(edit(base, "self-harm", { authority: "root" }), changeSet);
    expect(changedTarget.conflicts).toEqual([
      { operation: 0, op: "remove", id: "self-harm", reason: "the clause changed in the target since the change set's base (authority)" },
    ]);
    expect(ids(changedTarget.content)).toContain("self-harm");

    const removedTarget = apply(without(base, "self-harm"), changeSet);
    expect(removedTarget.conflicts).toEqual([]);
    expect(removedTarget.alreadyApplied).toEqual(["self-harm"]);
  });

  it("treats an edit the target already has as applied, and one of a clause the target removed as a conflict", () => {
    const already = apply(edit(base, "no-lies", { text: "Never knowingly state falsehoods." }), changeSet);
    expect(already.alreadyApplied).toEqual(["no-lies"]);
    expect(already.conflicts).toEqual([]);
    const gone = apply(without(base, "no-lies"), changeSet);
    expect(gone.conflicts).toEqual([{ operation: 2, op: "edit", id: "no-lies", reason: "the target no longer has this clause" }]);
    // "cite" followed "no-lies"; without that anchor it goes last, and the reorder then puts it in its relative place.
    expect(ids(gone.content)).toEqual(["welcome", "no-weapons", "cite", "concise", "admit-uncertainty"]);
    const noReorder = { ...changeSet, operations: changeSet.operations.filter((o) => o.op !== "reorder") };
    expect(ids(apply(without(base, "no-lies"), noReorder).content)).toEqual(["welcome", "no-weapons", "admit-uncertainty", "concise", "cite"]);
  });

  it("skips an addition the target already has, and reports one with different content", () => {
    const same = apply(withClause(base, clauseOf(changed, "cite"), null), changeSet);
    expect(same.alreadyApplied).toEqual(["cite"]);
    const different = apply(withClause(base, { id: "cite", authority: "user", text: "Cite sources." }, null), changeSet);
    expect(different.conflicts).toEqual([{ operation: 3, op: "add", id: "cite", reason: 'the target already has a different clause "cite"' }]);
    expect(clauseOf(different.content, "cite").text).toBe("Cite sources.");
  });

  it("reorders only the clauses it names, leaving the target's own additions in place", () => {
    const target = withClause(base, { id: "target-only", authority: "user", text: "Added upstream meanwhile." }, "self-harm");
    const result = apply(target, changeSet);
    expect(ids(result.content)).toEqual(["welcome", "no-weapons", "target-only", "no-lies", "cite", "concise", "admit-uncertainty"]);
    expect(result.applied).toEqual(["self-harm", "welcome", "no-lies", "cite", "concise", "admit-uncertainty"]);
  });
});

describe("a single clause change", () => {
  it("carries only the named clauses, with no reorder", () => {
    const cs = changeSetFromContents(base, changed, { onlyClauseIds: ["cite"] });
    expect(cs.operations).toEqual([{ op: "add", clause: clauseOf(changed, "cite"), after: "no-lies" }]);
    expect(describeChangeSet(cs)).toBe("1 clause added");
    const result = apply(base, cs);
    expect(ids(result.content)).toEqual(["no-weapons", "self-harm", "no-lies", "cite", "admit-uncertainty", "concise"]);

    // Anchors skip clauses the change set does not carry.
    const afterWelcome = changeSetFromContents(base, withClause(changed, { id: "intro", authority: "user", text: "Intro." }, "welcome"), {
      onlyClauseIds: ["intro"],
    });
    expect(afterWelcome.operations).toEqual([expect.objectContaining({ op: "add", after: null })]);
  });

  it("offers an edit alone, and refuses ids in neither version", () => {
    const cs = changeSetFromContents(base, changed, { onlyClauseIds: ["no-lies", "admit-uncertainty"] });
    expect(cs.operations.map((o) => o.op)).toEqual(["edit"]);
    expect(() => changeSetFromContents(base, changed, { onlyClauseIds: ["nope"] })).toThrow('No clause "nope" in either version.');
  });
});

describe("sections", () => {
  const withSection = withClause(
    parse({ ...base, sections: [...base.sections, { id: "privacy", title: "Privacy", parent: null }, { id: "records", title: "Records", parent: "privacy" }] }),
    { id: "no-lending-history", section: "records", authority: "root", text: "Never reveal a patron's lending history." },
    "concise",
  );

  it("carries new sections a clause needs and creates them in the target", () => {
    const cs = changeSetFromContents(base, withSection);
    expect(cs.sections?.map((s) => s.id)).toEqual(["privacy", "records"]);
    expect(describeChangeSet(cs)).toBe("1 clause added; 2 new sections");
    const result = apply(base, cs);
    expect(result.content).toEqual(withSection);
    expect(result.addedSections).toEqual(["privacy", "records"]);
  });

  it("reports a conflict for a clause whose section the target lacks and the change set does not carry", () => {
    const cs = changeSetFromContents(base, edit(base, "concise", { section: "safety" }));
    const target = parse({ ...without(base, "no-weapons", "self-harm"), sections: [base.sections[1]!] });
    const result = apply(target, cs);
    expect(result.conflicts).toEqual([{ operation: 0, op: "edit", id: "concise", reason: 'section "safety" is not in the target' }]);
    expect(result.content).toEqual(target);
  });
});

describe("changeSetSchema", () => {
  const hash = contentHash(base);
  const clause = clauseOf(base, "concise");
  const issues = (input: unknown) => {
    const result = changeSetSchema.safeParse(input);
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  };

  it("explains what is wrong", () => {
    expect(issues({ base: { contentHash: "abc" }, operations: [] })).toEqual(['base.contentHash: must be "sha256:" followed by 64 lowercase hexadecimal digits']);
    expect(issues({ base: { contentHash: hash }, operations: [{ op: "move", id: "concise" }] })).toEqual([
      'operations.0.op: unknown operation "move"; use one of add, edit, remove, reorder',
    ]);
    expect(
      issues({
        base: { contentHash: hash },
        operations: [
          { op: "edit", id: "concise", before: clause, after: clause },
          { op: "remove", id: "concise", before: clause },
          { op: "remove", id: "other", before: clause },
          { op: "reorder", order: ["a", "a"] },
        ],
      }),
    ).toEqual([
      "operations.0: the edit changes nothing",
      'operations.1: clause "concise" already has an operation (number 1)',
      'operations.2.before.id: must be "other"',
      'operations.3.order: lists "a" twice',
    ]);
    expect(issues({ base: { contentHash: hash }, operations: [], extra: 1 })).toEqual([': Unrecognized key: "extra"']);
  });
});
