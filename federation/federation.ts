/**
 * Builds the Fedify federation of one instance: storage (KvStore and
 * MessageQueue on the instance database unless a caller passes others),
 * delivery retries, and the dispatchers and listeners of this folder.
 */
import {
  createFederation,
  type Federation,
  type FederationQueueOptions,
  type KvStore,
  type MessageQueue,
} from "@fedify/fedify";
import type { Db } from "../db/client.ts";
import { registerActors } from "./actors.ts";
import { registerCollections } from "./collections.ts";
import type { InstanceData } from "./context.ts";
import { registerInbox } from "./inbox.ts";
import { SqliteKvStore } from "./kv-store.ts";
import { SqliteMessageQueue } from "./message-queue.ts";
import { registerNodeInfo } from "./nodeinfo.ts";
import { createDeliveryRetryPolicy } from "./retry-policy.ts";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../src/version.ts";
import { installIteratorFrom } from "../src/polyfills.ts";

// Loading Fedify (through jsonld's core-js) replaced the global Iterator.
installIteratorFrom();

export interface FederationSetup {
  db: Db;
  origin: string;
  /** Allow fetching loopback and private addresses (local multi-instance setups). */
  allowPrivateAddress: boolean;
  kv?: KvStore;
  queue?: MessageQueue | FederationQueueOptions;
}

/**
 * Incoming activities are handled one at a time, in arrival order, so that a
 * Follow and the Undo that follows it cannot race. Deliveries mostly wait on
 * other servers, so several run at once.
 */
export function sqliteQueues(db: Db): FederationQueueOptions {
  return {
    inbox: new SqliteMessageQueue(db, { name: "inbox", concurrency: 1 }),
    outbox: new SqliteMessageQueue(db, { name: "outbox", concurrency: 8 }),
    fanout: new SqliteMessageQueue(db, { name: "fanout", concurrency: 2 }),
  };
}

export function createFedalignFederation(setup: FederationSetup): Federation<InstanceData> {
  const federation = createFederation<InstanceData>({
    kv: setup.kv ?? new SqliteKvStore(setup.db),
    queue: setup.queue ?? sqliteQueues(setup.db),
    // The queue is started explicitly by the server once it listens.
    manuallyStartQueue: true,
    origin: setup.origin,
    allowPrivateAddress: setup.allowPrivateAddress,
    userAgent: { software: `${SOFTWARE_NAME}/${SOFTWARE_VERSION}` },
    outboxRetryPolicy: createDeliveryRetryPolicy(),
  });
  registerActors(federation);
  registerCollections(federation);
  registerInbox(federation);
  registerNodeInfo(federation);
  return federation;
}
