/**
 * Delivery SSRF guard. Fedify does not check inbox URLs against private
 * addresses, so every outgoing delivery taken from the queue is checked here,
 * after DNS, before Fedify's handler POSTs it: a delivery to a private,
 * loopback, link-local or otherwise special address is dropped (logged once
 * at info), never retried, unless the operator allows private addresses.
 * (Inbox URLs are checked when an actor is stored too: federation/entities/actor.ts.)
 */
import type { FederationQueueOptions, MessageQueue, MessageQueueEnqueueOptions, MessageQueueListenOptions } from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import { assertPublicHost, type Resolver } from "./addresses.ts";

const logger = getLogger(["fedalign", "federation", "delivery"]);

interface OutboxMessageLike {
  type?: unknown;
  inbox?: unknown;
  activityId?: unknown;
}

/** Why a queued delivery must not be made, or undefined when it may. */
export async function refusedDelivery(message: unknown, resolver?: Resolver): Promise<string | undefined> {
  const { type, inbox } = (message ?? {}) as OutboxMessageLike;
  if (type !== "outbox" || typeof inbox !== "string") return undefined;
  try {
    const url = new URL(inbox);
    if (url.protocol !== "https:" && url.protocol !== "http:") return `${url.protocol} is not http(s)`;
    await assertPublicHost(url.hostname, resolver);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

class GuardedQueue implements MessageQueue {
  readonly nativeRetrial?: boolean;
  readonly getDepth?: MessageQueue["getDepth"];
  constructor(private readonly inner: MessageQueue) {
    this.nativeRetrial = inner.nativeRetrial;
    if (inner.getDepth) this.getDepth = () => inner.getDepth!();
  }

  enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    return this.inner.enqueue(message, options);
  }

  enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    return this.inner.enqueueMany ? this.inner.enqueueMany(messages, options) : Promise.all(messages.map((m) => this.inner.enqueue(m, options))).then(() => {});
  }

  listen(handler: (message: unknown) => Promise<void> | void, options?: MessageQueueListenOptions): Promise<void> {
    return this.inner.listen(async (message) => {
      const reason = await refusedDelivery(message);
      if (reason === undefined) return handler(message);
      const { inbox, activityId } = message as OutboxMessageLike;
      logger.info("Refused delivery of {activity} to {inbox}: {reason}.", { activity: activityId, inbox, reason });
    }, options);
  }
}

/** Wraps the queue(s) that carry outgoing deliveries, unless private addresses are allowed. */
export function guardDeliveries(
  queue: MessageQueue | FederationQueueOptions,
  allowPrivateAddress: boolean,
): MessageQueue | FederationQueueOptions {
  if (allowPrivateAddress) return queue;
  if ("listen" in queue && typeof queue.listen === "function") return new GuardedQueue(queue as MessageQueue);
  const options = queue as FederationQueueOptions;
  return { ...options, outbox: options.outbox ? new GuardedQueue(options.outbox) : undefined };
}
