/**
 * Storing, importing and exporting preference records. Imports stream: rows
 * are staged in batches and moved into place in one transaction at the end,
 * so memory stays flat, a re-import adds nothing (records are keyed by a
 * content fingerprint) and a stopped import leaves nothing behind.
 */
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { and, eq, lt } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
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
export function pseudonym(db: Db, communityId: number, userId: number): string {
  let secret = db.select().from(settings).where(eq(settings.key, SECRET_KEY)).get()?.value as string | undefined;
  if (!secret) {
    secret = randomBytes(32).toString("base64url");
    db.insert(settings).values({ key: SECRET_KEY, value: secret }).onConflictDoNothing().run();
    secret = db.select().from(settings).where(eq(settings.key, SECRET_KEY)).get()!.value as string;
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
  inFinalTransaction?: (imported: number) => void;
}

export async function importRecords(db: Db, lines: AsyncIterable<ParsedLine>, options: ImportOptions): Promise<ImportReport> {
  const importId = randomUUID();
  const batchSize = options.batchSize ?? 2000;
  const report: ImportReport = { read: 0, imported: 0, duplicates: 0, errors: [], stopped: false };
  let errorCount = 0;
  const stage = db.$client.prepare(
    `INSERT INTO preference_import_staging (import_id, community_id, policy_id, dedup_key, record, rater_id, consent_train, consent_federate, consent_breakdown, source_name, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const flush = db.$client.transaction((rows: unknown[][]) => {
    for (const row of rows) stage.run(...row);
  });
  // Leftovers of imports that died half-way (a crash, a killed process).
  db.delete(preferenceImportStaging).where(lt(preferenceImportStaging.createdAt, (options.now ?? new Date()).getTime() - 24 * 3600 * 1000)).run();
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
        flush(batch);
        batch = [];
        options.onProgress?.(report.read);
        // Let the server answer other requests between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (report.stopped) return report;
    flush(batch);
    options.onProgress?.(report.read);
    const staged = db.$client.prepare("SELECT COUNT(*) AS n FROM preference_import_staging WHERE import_id = ?").get(importId) as { n: number };
    const now = (options.now ?? new Date()).getTime();
    const moved = db.$client.transaction(() => {
      const changes = db.$client
        .prepare(
          `INSERT OR IGNORE INTO preference_records (community_id, policy_id, dedup_key, record, rater_id, consent_train, consent_federate, consent_breakdown, source_name, created_at, updated_at)
           SELECT community_id, policy_id, dedup_key, record, rater_id, consent_train, consent_federate, consent_breakdown, source_name, created_at, ?
           FROM preference_import_staging WHERE import_id = ? ORDER BY id`,
        )
        .run(now, importId).changes;
      options.inFinalTransaction?.(changes);
      return changes;
    })();
    report.imported = moved;
    report.duplicates = staged.n - moved;
    return report;
  } finally {
    db.delete(preferenceImportStaging).where(eq(preferenceImportStaging.importId, importId)).run();
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

/**
 * Records whose rater allowed training, for a policy (or a whole community),
 * in insertion order, read lazily so exports of millions of rows run in
 * flat memory.
 */
export function* trainableRecords(db: Db, scope: { policyId: number } | { communityId: number }): Generator<PreferenceRecord> {
  const [column, value] = "policyId" in scope ? ["policy_id", scope.policyId] : ["community_id", scope.communityId];
  const statement = db.$client.prepare(`SELECT record FROM preference_records WHERE ${column} = ? AND consent_train = 1 ORDER BY id`);
  for (const row of statement.iterate(value) as Iterable<{ record: string }>) {
    yield JSON.parse(row.record) as PreferenceRecord;
  }
}

export function findRecord(db: Db, id: number): StoredRecord {
  const row = db.select().from(preferenceRecords).where(eq(preferenceRecords.id, id)).get();
  if (!row) throw new NotFoundError(`No preference record ${id}.`);
  return row;
}

/** The rater narrows their consent; export and federation honour it from then on. */
export function narrowRecordConsent(db: Db, id: number, userId: number, requested: Consent, now = new Date()): StoredRecord {
  const row = findRecord(db, id);
  if (row.userId !== userId) throw new ForbiddenError("Only the rater can change the consent of their judgement.");
  const record = toRecord(row);
  const consent = narrowConsent(record.consent, requested);
  return db
    .update(preferenceRecords)
    .set({
      record: { ...record, consent } as unknown as Record<string, unknown>,
      consentTrain: consent.train,
      consentFederate: consent.federate,
      consentBreakdown: consent.breakdown,
      updatedAt: now,
    })
    .where(and(eq(preferenceRecords.id, id)))
    .returning()
    .get();
}
