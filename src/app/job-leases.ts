/**
 * Leases on work that exactly one process may do at a time, when several
 * worker processes share a database (`fedalign serve --role worker`): the
 * scheduled jobs. A lease is a row (job_leases) naming its holder and when
 * it runs out; taking it is one upsert that succeeds only when the row is
 * free, expired or already ours, so two processes cannot both hold it. The
 * holder renews it on every pass; a process that dies loses it when it
 * expires, and another takes over.
 */
import { and, eq, lte, or } from "drizzle-orm";
import { randomUUID } from "node:crypto";
import type { Db } from "../../db/client.ts";
import { jobLeases } from "../../db/schema.ts";

/** Who holds leases in this process (one per Scheduler, so two in one test process are two holders). */
export function newHolder(): string {
  return randomUUID();
}

/** Takes or renews `name` for `holder` until `now + ttlMs`; false when another holder has it. */
export async function takeLease(db: Db, name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
  const expiresAt = new Date(now.getTime() + ttlMs);
  const taken = await db
    .insert(jobLeases)
    .values({ name, holder, expiresAt })
    .onConflictDoUpdate({
      target: jobLeases.name,
      set: { holder, expiresAt },
      setWhere: or(eq(jobLeases.holder, holder), lte(jobLeases.expiresAt, now)),
    })
    .returning({ holder: jobLeases.holder });
  return taken.length === 1;
}

/** Gives `name` up at once (a worker stopping cleanly), so another process need not wait for it to expire. */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db.delete(jobLeases).where(and(eq(jobLeases.name, name), eq(jobLeases.holder, holder)));
}

/** Who holds `name` now, for status output and tests. */
export async function leaseHolder(db: Db, name: string, now: Date): Promise<string | undefined> {
  const [row] = await db.select({ holder: jobLeases.holder, expiresAt: jobLeases.expiresAt }).from(jobLeases).where(eq(jobLeases.name, name)).limit(1);
  return row && row.expiresAt > now ? row.holder : undefined;
}
