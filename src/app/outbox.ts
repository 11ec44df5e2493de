/**
 * The transactional outbox, application side: `recordEffect` writes a
 * federation effect (./effects.ts) as a row of the `outbox` table inside the
 * caller's transaction, so the effect exists exactly when the change it
 * announces does. The dispatcher (federation/outbox-dispatcher.ts) sends it
 * after the commit; a user's request never waits on, or fails because of,
 * another server.
 */
import { and, asc, isNull } from "drizzle-orm";
import { AsyncResource } from "node:async_hooks";
import type { Db } from "../../db/client.ts";
import { outbox } from "../../db/schema.ts";
import type { Effect } from "./effects.ts";

type Listener = () => void;
/** Dispatchers of this process, per database connection, woken when an effect is recorded. */
const listeners = new WeakMap<object, Set<Listener>>();

/**
 * Records effects in the current transaction. Throws when called outside
 * one: an effect written apart from its change could be lost (or announce a
 * change that was rolled back), which is the bug the outbox exists to stop.
 */
export async function recordEffect(db: Db, effects: Effect | readonly Effect[], now: Date): Promise<void> {
  if (!db.$client.inTransaction) throw new Error("recordEffect must run inside the transaction that makes the change");
  const list = Array.isArray(effects) ? effects : [effects as Effect];
  if (list.length === 0) return;
  await db.insert(outbox).values(list.map(({ kind, ...payload }) => ({ kind, payload, createdAt: now, dueAt: now })));
  // Later, not now: the transaction is still open. A woken dispatcher's
  // queries wait for the connection, so they run after its COMMIT (or
  // ROLLBACK) and see exactly what was committed.
  const set = listeners.get(db.$client);
  if (set) setImmediate(() => set.forEach((listener) => listener()));
}

/** Called by a dispatcher of this process when an effect is recorded on `db`. */
export function onEffectRecorded(db: Db, listener: Listener): () => void {
  let set = listeners.get(db.$client);
  if (!set) listeners.set(db.$client, (set = new Set()));
  // Run in the dispatcher's own async context, not in the recording flow's:
  // that flow holds the connection (its transaction), and work started
  // from its context would run inside that transaction.
  const bound = AsyncResource.bind(listener);
  set.add(bound);
  return () => set.delete(bound);
}

/** Effects not yet dispatched (nor abandoned), oldest first: for status pages and tests. */
export async function pendingEffects(db: Db): Promise<{ id: number; kind: string; attempts: number; lastError: string | null }[]> {
  return await db
    .select({ id: outbox.id, kind: outbox.kind, attempts: outbox.attempts, lastError: outbox.lastError })
    .from(outbox)
    .where(and(isNull(outbox.dispatchedAt), isNull(outbox.abandonedAt)))
    .orderBy(asc(outbox.id));
}
