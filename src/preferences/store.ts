/**
 * Storing, importing and exporting preference records. Imports stream: rows
 * are staged in batches and moved into place in one transaction at the end,
 * so memory stays flat, a re-import adds nothing (records are keyed by a
 * content fingerprint) and a stopped import leaves nothing behind.
 */
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { and, eq, lt } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { preferenceImportStaging, preferenceRecords, settings } from "../../db/schema.ts";
import { canonicalJson } from "../policies/hash.ts";
import { ForbiddenError, NotFoundError } from "../errors.ts";
import { narrowConsent, preferenceRecordSchema, type Consent, type PreferenceRecord } from "./record.ts";
import type { ParsedLine } from "./formats.ts";

export type StoredRecord = typeof preferenceRecords.$inferSelect;


const SECRET_KEY = "preferences.pseudonym-secret";

/**
 * A member's rater id in one community: stable, but not linkable to their
 * account or across communities without the instance's secret.
 */
export async function pseudonym(db: Db, communityId: number, userId: number): Promise<string> {
  let secret = (await first(db.select().from(settings).where(eq(settings.key, SECRET_KEY))))?.value as string | undefined;
  if (!secret) {
    secret = randomBytes(32).toString("base64url");
    await db.insert(settings).values({ key: SECRET_KEY, value: secret }).onConflictDoNothing();
    secret = (await first(db.select().from(settings).where(eq(settings.key, SECRET_KEY))))!.value as string;
  }
  return `r_${createHmac("sha256", secret).update(`${communityId}:${userId}`).digest("base64url").slice(0, 22)}`;
}

/** Same judgement from the same source line: same key. */
export function dedupKey(record: PreferenceRecord): string {
  const identity = {
    prompt: record.prompt,
    responses: record.responses,
    choice: record.choice,
    ratings: record.ratings,
    raterId: record.raterId,
    source: record.source ? { name: record.source.name, line: record.source.line ?? null } : null,
  };
  return createHash("sha256").update(canonicalJson(identity)).digest("hex");
}

export interface ImportReport {
  read: number;
  imported: number;
  /** Records already held (a re-import). */
  duplicates: number;
  errors: { line: number; error: string }[];
  /** True when the import stopped at the first bad line; then nothing was imported. */
  stopped: boolean;
}

export interface ImportOptions {
  communityId: number;
  policyId: number | null;
  onError: "skip" | "stop";
  /** Called every batch with the number of lines read so far. */
  onProgress?: (linesRead: number) => void;
  batchSize?: number;
  /** Errors kept in the report (all are counted). */
  maxReportedErrors?: number;
  /** The time stamped on the records (`updated_at`); now by default. */
  now?: Date;
  /**
   * Runs inside the one transaction that moves the staged records into
   * place, with how many were added: whatever it writes commits with them,
   * or not at all. (The staging batches before it are scratch rows.)
   */
  inFinalTransaction?: (imported: number) => Promise<void> | void;
}

export async function importRecords(db: Db, lines: AsyncIterable<ParsedLine>, options: ImportOptions): Promise<ImportReport> {
  const importId = randomUUID();
  const batchSize = options.batchSize ?? 2000;
  const report: ImportReport = { read: 0, imported: 0, duplicates: 0, errors: [], stopped: false };
  let errorCount = 0;
  const client = db.$client;
  const stage = client.raw.prepare(
    `INSERT INTO preference_import_staging (import_id, community_id, policy_id, dedup_key, record, rater_id, consent_train, consent_federate, consent_breakdown, source_name, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const stageAll = client.raw.transaction((rows: unknown[][]) => {
    for (const row of rows) stage.run(...row);
  });
  // One batch per turn of the connection: other requests run between batches.
  const flush = (rows: unknown[][]): Promise<void> => client.exclusive(() => stageAll(rows));
  // Leftovers of imports that died half-way (a crash, a killed process).
  await db.delete(preferenceImportStaging).where(lt(preferenceImportStaging.createdAt, (options.now ?? new Date()).getTime() - 24 * 3600 * 1000));
  let batch: unknown[][] = [];
  try {
    for await (const parsed of lines) {
      report.read++;
      const checked = parsed.ok ? preferenceRecordSchema.safeParse(parsed.record) : undefined;
      if (!parsed.ok || !checked || !checked.success) {
        const error = !parsed.ok ? parsed.error : describeIssue(checked?.error?.issues[0]);
        errorCount++;
        const line = parsed.ok ? (parsed.record.source?.line ?? report.read) : parsed.line;
        if (report.errors.length < (options.maxReportedErrors ?? 100)) report.errors.push({ line, error });
        if (options.onError === "stop") {
          report.stopped = true;
          break;
        }
        continue;
      }
      const record = checked.data;
      batch.push([
        importId, options.communityId, options.policyId, dedupKey(record), JSON.stringify(record), record.raterId,
        record.consent.train ? 1 : 0, record.consent.federate ? 1 : 0, record.consent.breakdown ? 1 : 0,
        record.source?.name ?? null, Date.parse(record.createdAt),
      ]);
      if (batch.length >= batchSize) {
        await flush(batch);
        batch = [];
        options.onProgress?.(report.read);
        // Let the server answer other requests between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (report.stopped) return report;
    await flush(batch);
    options.onProgress?.(report.read);
    const staged = (await client.exclusive(
      () => client.raw.prepare("SELECT COUNT(*) AS n FROM preference_import_staging WHERE import_id = ?").get(importId),
    )) as { n: number };
    const now = (options.now ?? new Date()).getTime();
    const moved = await db.transaction(async () => {
      // This flow holds the connection (the transaction): the raw statement runs in it.
      const changes = await client.exclusive(
        () =>
          client.raw
            .prepare(
              `INSERT OR IGNORE INTO preference_records (community_id, policy_id, dedup_key, record, rater_id, consent_train, consent_federate, consent_breakdown, source_name, created_at, updated_at)
               SELECT community_id, policy_id, dedup_key, record, rater_id, consent_train, consent_federate, consent_breakdown, source_name, created_at, ?
               FROM preference_import_staging WHERE import_id = ? ORDER BY id`,
            )
            .run(now, importId).changes,
      );
      await options.inFinalTransaction?.(changes);
      return changes;
    });
    report.imported = moved;
    report.duplicates = staged.n - moved;
    return report;
  } finally {
    await db.delete(preferenceImportStaging).where(eq(preferenceImportStaging.importId, importId));
    if (errorCount > report.errors.length) report.errors.push({ line: 0, error: `and ${errorCount - report.errors.length} more malformed lines` });
  }
}

function describeIssue(issue: { path: PropertyKey[]; message: string } | undefined): string {
  if (!issue) return "invalid record";
  const path = issue.path.map(String).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

export function toRecord(row: Pick<StoredRecord, "record">): PreferenceRecord {
  return row.record as unknown as PreferenceRecord;
}

/** Rows per page of trainableRecords: each page is one short turn of the connection. */
const EXPORT_PAGE = 1000;

/**
 * Records whose rater allowed training, for a policy (or a whole community),
 * in insertion order, read lazily so exports of millions of rows run in
 * flat memory. Read in keyset pages (after the last id), each page with the
 * connection held only while it is read, so a long export never holds up
 * other requests.
 */
export async function* trainableRecords(db: Db, scope: { policyId: number } | { communityId: number }): AsyncGenerator<PreferenceRecord> {
  const [column, value] = "policyId" in scope ? ["policy_id", scope.policyId] : ["community_id", scope.communityId];
  const client = db.$client;
  const statement = client.raw.prepare<[number, number, number], { id: number; record: string }>(
    `SELECT id, record FROM preference_records WHERE ${column} = ? AND consent_train = 1 AND id > ? ORDER BY id LIMIT ?`,
  );
  let after = 0;
  for (;;) {
    const rows = await client.exclusive(() => statement.all(value, after, EXPORT_PAGE));
    for (const row of rows) yield JSON.parse(row.record) as PreferenceRecord;
    if (rows.length < EXPORT_PAGE) return;
    after = rows.at(-1)!.id;
  }
}

export async function findRecord(db: Db, id: number): Promise<StoredRecord> {
  const row = await first(db.select().from(preferenceRecords).where(eq(preferenceRecords.id, id)));
  if (!row) throw new NotFoundError(`No preference record ${id}.`);
  return row;
}

/** The rater narrows their consent; export and federation honour it from then on. */
export async function narrowRecordConsent(db: Db, id: number, userId: number, requested: Consent, now = new Date()): Promise<StoredRecord> {
  const row = await findRecord(db, id);
  if (row.userId !== userId) throw new ForbiddenError("Only the rater can change the consent of their judgement.");
  const record = toRecord(row);
  const consent = narrowConsent(record.consent, requested);
  const [updated] = await db
    .update(preferenceRecords)
    .set({
      record: { ...record, consent } as unknown as Record<string, unknown>,
      consentTrain: consent.train,
      consentFederate: consent.federate,
      consentBreakdown: consent.breakdown,
      updatedAt: now,
    })
    .where(and(eq(preferenceRecords.id, id)))
    .returning();
  return updated!;
}
