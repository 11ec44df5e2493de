/**
 * Bounds on what a remote actor can make this instance store. Every remote
 * document is at most 1 MiB on the wire (federation/fetch.ts); within that,
 * these limits keep any one field or list from dominating a row or a page.
 * Chosen with headroom over real data: the OpenAI Model Spec's longest
 * clause is about 5,000 characters and its clauses carry at most 8 examples.
 * Documented in the README (Security, "Bounds").
 */
export const REMOTE_LIMITS = {
  /** Actor display names, handles, policy titles. */
  name: 300,
  /** Any URL stored from a remote document (inbox, profile page). */
  url: 2_048,
  /** Policy summaries and changelogs. */
  summary: 10_000,
  /** Clause, section and rationale text, example messages and responses. */
  text: 50_000,
  /** Sections or clauses in one received version. */
  clausesPerVersion: 1_000,
  /** Examples on one clause. */
  examplesPerClause: 50,
  /** Earlier versions fetched to fill a mirror's history, per activity. */
  versionsPerActivity: 20,
  /** Records mirrored from one followed policy's preference dataset. */
  mirroredRecordsPerPolicy: 200_000,
} as const;

/** The first limit a value breaks, as a sentence for the log; undefined when within bounds. */
export function overLimit(field: string, value: string | null | undefined, limit: number): string | undefined {
  return value != null && value.length > limit ? `${field} is ${value.length} characters, over the limit of ${limit}` : undefined;
}

interface BoundedContent {
  summary: string;
  sections: { text: string }[];
  clauses: { text: string; rationale: string; examples: { prompt: { content: string }[]; responses: { content: string; note?: string }[]; why?: string }[] }[];
}

/** The first bound a received policy version breaks, or undefined. */
export function versionOverLimit(content: BoundedContent, changelog: string): string | undefined {
  const L = REMOTE_LIMITS;
  if (content.clauses.length > L.clausesPerVersion) return `${content.clauses.length} clauses, over the limit of ${L.clausesPerVersion}`;
  if (content.sections.length > L.clausesPerVersion) return `${content.sections.length} sections, over the limit of ${L.clausesPerVersion}`;
  const found =
    overLimit("the summary", content.summary, L.summary) ??
    overLimit("the changelog", changelog, L.summary) ??
    content.sections.map((s, i) => overLimit(`section ${i + 1}`, s.text, L.text)).find(Boolean);
  if (found) return found;
  for (const [i, clause] of content.clauses.entries()) {
    if (clause.examples.length > L.examplesPerClause) return `clause ${i + 1} has ${clause.examples.length} examples, over the limit of ${L.examplesPerClause}`;
    const texts = [clause.text, clause.rationale, ...clause.examples.flatMap((e) => [...e.prompt.map((m) => m.content), ...e.responses.flatMap((r) => [r.content, r.note ?? ""]), e.why ?? ""])];
    const long = texts.map((text) => overLimit(`a text of clause ${i + 1}`, text, L.text)).find(Boolean);
    if (long) return long;
  }
  return undefined;
}
