/**
 * Full-text search over the clauses of the policies an instance holds (its
 * own and the ones it mirrors), with SQLite FTS5 (table `clause_search`,
 * made by migration 0019).
 *
 * The index holds the newest live version of each policy: one row per
 * clause, its title, its text with commentary, rationale and footnotes, and
 * its examples, as plain text. `reindexPolicy` rewrites a policy's rows; it
 * runs inside the transactions that store a published or received version
 * and that retract one, so the index never disagrees with what the policy
 * pages show. `ensureSearchIndex` fills it at start for databases written
 * before it existed, or after INDEX_VERSION changes what is indexed.
 *
 * Queries are built from the words people type, never passed to FTS5 as
 * syntax: each word (or "quoted phrase") becomes a quoted FTS5 string, all
 * of them required, so `"`, `*`, `NEAR(` or `OR` are plain words or nothing.
 */
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { policyVersions, settings } from "../../db/schema.ts";
import { policyContentSchema, type Clause } from "./content.ts";

/** Bump when what is indexed changes: instances rebuild the index at their next start. */
const INDEX_VERSION = 1;
const INDEX_VERSION_KEY = "clause_search_version";

/** What reindexing needs: a database or the transaction it runs in. */
type Writer = Pick<Db, "run" | "all" | "select">;

/** Markdown as words: links keep their text, emphasis, code marks, headings and HTML tags go. */
export function markdownToText(md: string): string {
  return md
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[\^[^\]]*\]/g, "")
    .replace(/<[^>\n]*>/g, " ")
    .replace(/^[ \t]*(?:#{1,6}|>|[-*+]|\d+[.)])[ \t]+/gm, "")
    .replace(/[*_`~]+/g, "")
    .replace(/[ \t]+/g, " ")
    .trim();
}

function clauseBody(clause: Clause): string {
  return [clause.text, clause.commentary ?? "", clause.rationale, ...(clause.notes ?? []).map((note) => note.text)]
    .filter((part) => part.trim())
    .map(markdownToText)
    .join("\n\n");
}

function clauseExamples(clause: Clause): string {
  return clause.examples
    .flatMap((example) => [example.title ?? "", ...example.prompt.map((m) => m.content), ...example.responses.map((r) => r.content), example.why ?? ""])
    .filter((part) => part.trim())
    .map(markdownToText)
    .join("\n\n");
}

/** Rewrites the index rows of one policy from its newest live version (none when it has none). */
export async function reindexPolicy(db: Writer, policyId: number): Promise<void> {
  await db.run(sql`DELETE FROM clause_search WHERE policy_id = ${policyId}`);
  const head = await first(
    db
      .select()
      .from(policyVersions)
      .where(and(eq(policyVersions.policyId, policyId), isNull(policyVersions.retractedAt)))
      .orderBy(desc(policyVersions.number))
      .limit(1),
  );
  if (!head) return;
  const content = policyContentSchema.parse(head.document.normativeContent);
  for (const clause of content.clauses) {
    await db.run(
      sql`INSERT INTO clause_search (policy_id, version_id, clause_id, title, body, examples)
          VALUES (${policyId}, ${head.id}, ${clause.id}, ${markdownToText(clause.title)}, ${clauseBody(clause)}, ${clauseExamples(clause)})`,
    );
  }
}

/** Builds the index at start when it is missing rows or was built by an older INDEX_VERSION. */
export async function ensureSearchIndex(db: Db): Promise<void> {
  const stored = (await first(db.select().from(settings).where(eq(settings.key, INDEX_VERSION_KEY))))?.value;
  if (stored === INDEX_VERSION) return;
  await db.transaction(async (tx) => {
    await tx.run(sql`DELETE FROM clause_search`);
    const ids = await tx.selectDistinct({ policyId: policyVersions.policyId }).from(policyVersions);
    for (const { policyId } of ids) await reindexPolicy(tx, policyId);
    await tx
      .insert(settings)
      .values({ key: INDEX_VERSION_KEY, value: INDEX_VERSION })
      .onConflictDoUpdate({ target: settings.key, set: { value: INDEX_VERSION } });
  });
}

/** The words and "quoted phrases" of a query, lower-cased; punctuation and FTS5 syntax are dropped. */
export function queryTerms(query: string): string[] {
  const terms: string[] = [];
  const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const [, phrase, bare] of query.slice(0, 500).matchAll(/"([^"]*)"|([^"\s]+)/g)) {
    if (phrase !== undefined) {
      const inner = words(phrase);
      if (inner.length) terms.push(inner.join(" "));
    } else terms.push(...words(bare ?? ""));
  }
  return [...new Set(terms)].slice(0, 20);
}

/** An FTS5 query requiring every term; each is a quoted string, so nothing the user typed is FTS5 syntax. */
function ftsQuery(terms: string[]): string {
  return terms.map((term) => `"${term}"`).join(" ");
}

export interface ClauseHit {
  policyId: number;
  versionId: number;
  clauseId: string;
  /** Title and a passage of the body (or examples) around the match, in plain text; matched words between MARK_START and MARK_END. */
  title: string;
  snippet: string;
  /** Where the best passage was found. */
  inExamples: boolean;
}

/** Private-use characters around matched words, turned into <mark> after the text is escaped. */
export const MARK_START = "\uE000";
export const MARK_END = "\uE001";

/** bm25 weights per column (policy_id, version_id, clause_id, title, body, examples): a title match counts most. */
const RANK = sql.raw("bm25(clause_search, 0, 0, 0, 8.0, 2.0, 0.5)");

/**
 * Clauses matching every term, best first (bm25), in one policy or across
 * all. Returns at most `limit` hits and how many matched in all.
 */
export async function searchClauses(db: Db, terms: string[], options: { policyId?: number; limit: number }): Promise<{ hits: ClauseHit[]; total: number }> {
  if (terms.length === 0) return { hits: [], total: 0 };
  const match = ftsQuery(terms);
  const inPolicy = options.policyId === undefined ? sql`` : sql` AND policy_id = ${options.policyId}`;
  // FTS5 (MATCH, highlight, snippet, bm25): raw SQL with rows as objects.
  const rows = await db.$client.all<{ policy_id: number; version_id: number; clause_id: string; title: string; body: string; examples: string }>(sql`
    SELECT policy_id, version_id, clause_id,
           highlight(clause_search, 3, ${MARK_START}, ${MARK_END}) AS title,
           snippet(clause_search, 4, ${MARK_START}, ${MARK_END}, '…', 40) AS body,
           snippet(clause_search, 5, ${MARK_START}, ${MARK_END}, '…', 30) AS examples
    FROM clause_search WHERE clause_search MATCH ${match}${inPolicy}
    ORDER BY ${RANK} LIMIT ${options.limit}`);
  const total =
    rows.length < options.limit
      ? rows.length
      : ((await db.$client.all<{ n: number }>(sql`SELECT count(*) AS n FROM clause_search WHERE clause_search MATCH ${match}${inPolicy}`))[0]?.n ??
        rows.length);
  const hits = rows.map((row) => {
    const inExamples = !row.body.includes(MARK_START) && row.examples.includes(MARK_START);
    return {
      policyId: row.policy_id,
      versionId: row.version_id,
      clauseId: row.clause_id,
      title: row.title,
      snippet: inExamples ? row.examples : row.body,
      inExamples,
    };
  });
  return { hits, total };
}
