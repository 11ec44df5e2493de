/**
 * What every Fedify callback receives as context data (Hackers' Pub style):
 * the instance's database handle and per-instance caches, so that tests and
 * benchmarks can run several instances in one process with their own state.
 */
import type { Context } from "@fedify/fedify";
import type { Db } from "../db/client.ts";
import { systemClock, type Clock } from "../src/app/clock.ts";
import type { DocumentLoaders } from "./fetch.ts";

export interface InboxStats {
  /** Activities that reached a listener and were handled without error. */
  processed: number;
  /** Activities whose listener threw (Fedify retries them). */
  failed: number;
}

export interface InstanceData {
  db: Db;
  /** Imported key pairs per local actor id; importing a JWK costs about a millisecond. */
  keyPairCache: Map<number, CryptoKeyPair[]>;
  inboxStats: InboxStats;
  /** Local multi-instance mode: private addresses and plain-http WebFinger allowed. */
  allowPrivateAddress: boolean;
  /** The guarded document loaders (./fetch.ts); `fresh` bypasses the five-minute cache. */
  loaders: DocumentLoaders;
  /** The instance's clock (src/app/clock.ts): inbox handlers time what they record with it. */
  clock: Clock;
}

export type FedCtx = Context<InstanceData>;

export function createInstanceData(db: Db, loaders: DocumentLoaders, allowPrivateAddress = false, clock: Clock = systemClock): InstanceData {
  return { db, keyPairCache: new Map(), inboxStats: { processed: 0, failed: 0 }, allowPrivateAddress, loaders, clock };
}
