/**
 * The history of one clause across a policy's live versions: the versions
 * that added it, changed it (and what about it changed) or removed it.
 * Versions that left it as it was are not listed. Pure: takes the versions'
 * numbers and contents in order.
 */
import type { Clause, PolicyContent } from "./content.ts";

export type ClauseEventKind = "added" | "changed" | "removed" | "moved";

export interface ClauseEvent {
  kind: ClauseEventKind;
  /** The version where it happened, and the live version before it (to compare with); null for the first version. */
  number: number;
  previous: number | null;
  /** For "changed": which parts, in words ("text", "authority level", ...). */
  changes: string[];
}

const FIELD_NAMES: [keyof Clause, string][] = [
  ["title", "title"],
  ["text", "text"],
  ["authority", "authority level"],
  ["context", "context of use"],
  ["rationale", "rationale"],
  ["examples", "examples"],
  ["commentary", "commentary"],
  ["notes", "notes"],
  ["tags", "tags"],
  ["principle", "principle"],
];

function changedFields(before: Clause, after: Clause): string[] {
  return FIELD_NAMES.filter(([field]) => JSON.stringify(before[field] ?? null) !== JSON.stringify(after[field] ?? null)).map(([, name]) => name);
}

/** Oldest first. A clause that moved to another section counts as "moved" when nothing else changed. */
export function clauseHistory(versions: { number: number; content: PolicyContent }[], clauseId: string): ClauseEvent[] {
  const events: ClauseEvent[] = [];
  let before: Clause | undefined;
  let previous: number | null = null;
  for (const { number, content } of versions) {
    const now = content.clauses.find((clause) => clause.id === clauseId);
    if (now && !before) events.push({ kind: "added", number, previous, changes: [] });
    else if (!now && before) events.push({ kind: "removed", number, previous, changes: [] });
    else if (now && before) {
      const changes = changedFields(before, now);
      if (changes.length) events.push({ kind: "changed", number, previous, changes });
      else if (now.section !== before.section) events.push({ kind: "moved", number, previous, changes: [] });
    }
    before = now;
    previous = number;
  }
  return events;
}
