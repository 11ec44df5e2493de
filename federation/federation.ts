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
import { guardDeliveries } from "./delivery-guard.ts";
import type { DocumentLoaders } from "./fetch.ts";
import { SqliteMessageQueue } from "./message-queue.ts";
import { DEFAULT_DELIVERY, type DeliveryOptions } from "./delivery-options.ts";
import { deliveryHost, inboxOrderingKey, keyReferenceCodec } from "./queued-messages.ts";
import { registerNodeInfo } from "./nodeinfo.ts";
import { createDeliveryRetryPolicy } from "./retry-policy.ts";
import { installIteratorFrom } from "../src/polyfills.ts";

// Loading Fedify (through jsonld's core-js) replaced the global Iterator.
installIteratorFrom();

export interface FederationSetup {
  db: Db;
  origin: string;
  /** Allow fetching (and delivering to) loopback and private addresses (local multi-instance setups). */
  allowPrivateAddress: boolean;
  /** Every fetch goes through these (./fetch.ts), Fedify's own included. */
  loaders: DocumentLoaders;
  kv: KvStore;
  queue?: MessageQueue | FederationQueueOptions;
  delivery?: DeliveryOptions;
}


/**
 * Incoming activities: up to four at a time, but one at a time and in
 * arrival order per sending server (see queued-messages.ts), so a Follow and
 * the Undo after it cannot race while a slow server holds up only its own
 * activities. Deliveries mostly wait on other servers, so several run at
 * once, a few per host (DeliveryOptions). Queued deliveries carry no private keys.
 */
export function sqliteQueues(db: Db, delivery: DeliveryOptions = DEFAULT_DELIVERY): FederationQueueOptions {
  const codec = keyReferenceCodec(db);
  return {
    inbox: new SqliteMessageQueue(db, { name: "inbox", concurrency: INBOX_CONCURRENCY, orderingKeyOf: inboxOrderingKey, leaseMs: delivery.leaseMs }),
    outbox: new SqliteMessageQueue(db, {
      name: "outbox",
      concurrency: delivery.concurrency,
      codec,
      hostLimit: { hostOf: deliveryHost, maxInFlight: delivery.perHost },
      leaseMs: delivery.leaseMs,
    }),
    fanout: new SqliteMessageQueue(db, { name: "fanout", concurrency: 2, codec, leaseMs: delivery.leaseMs }),
  };
}

export const INBOX_CONCURRENCY = 4;

export function createFedalignFederation(setup: FederationSetup): Federation<InstanceData> {
  const delivery = setup.delivery ?? DEFAULT_DELIVERY;
  const federation = createFederation<InstanceData>({
    kv: setup.kv,
    queue: guardDeliveries(setup.queue ?? sqliteQueues(setup.db, delivery), setup.allowPrivateAddress),
    // The queue is started explicitly by the server once it listens.
    manuallyStartQueue: true,
    origin: setup.origin,
    // Fedify refuses allowPrivateAddress and userAgent next to custom loaders:
    // ours take both (and enforce key ownership), see ./fetch.ts.
    documentLoaderFactory: () => setup.loaders.cached,
    contextLoaderFactory: () => setup.loaders.context,
    authenticatedDocumentLoaderFactory: (identity) => setup.loaders.authenticated(identity),
    outboxRetryPolicy: createDeliveryRetryPolicy(),
    // Fedify's circuit breaker (state in the KvStore, shared by all workers):
    // a host that keeps failing is not tried again until the cool-down is
    // over; its deliveries are re-queued for then (held, for up to 7 days,
    // longer than our 3-day retry policy), and one probe decides whether it
    // is back. A refusal (4xx) does not count: the host is up.
    circuitBreaker: {
      failureThreshold: delivery.circuitFailures,
      recoveryDelay: { milliseconds: delivery.circuitCooldownMs },
    },
    // Widely deployed servers verify draft-cavage signatures, and many answer
    // 202 before verifying, so a refused RFC 9421 signature never comes back
    // as the 401 that would make Fedify retry with draft-cavage.
    firstKnock: "draft-cavage-http-signatures-12",
  });
  registerActors(federation);
  registerCollections(federation);
  registerInbox(federation);
  registerNodeInfo(federation);
  return federation;
}
