/**
 * What every Fedalign message queue must do, whatever the database under it:
 * the SQLite queue (test/message-queue.test.ts) and the PostgreSQL one
 * (test/postgres/message-queue.test.ts) run these same tests through a
 * backend that opens connections (each standing in for a worker process),
 * makes queues on them and reads the table.
 */
import { testMessageQueue } from "@fedify/testing";
import type { MessageQueue } from "@fedify/fedify";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { QueueOptions } from "../federation/queue-listener.ts";
import { Temporal } from "../federation/temporal.ts";

export interface QueueRow {
  id: number;
  attempts: number;
  last_error: string | null;
  deliver_at: number;
  locked_until: number | null;
}

export type ContractQueue = MessageQueue & { close(): Promise<void> };

export interface QueueBackend<Conn> {
  /** A new connection to the test database (a pool on PostgreSQL), as a separate worker process would have. */
  connect(): Promise<Conn>;
  queue(conn: Conn, options?: QueueOptions): ContractQueue;
  /** The table's rows (all queues), oldest first. */
  rows(conn: Conn): Promise<QueueRow[]>;
  /** Sets locked_until of every row, as a worker that claimed them would. */
  lease(conn: Conn, lockedUntil: number): Promise<void>;
  /** Closes the connection; it must not be used afterwards. */
  disconnect(conn: Conn): Promise<void>;
  /** Empties the table between tests (the database may be shared by the file). */
  reset(): Promise<void>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const seconds = (s: number) => Temporal.Duration.from({ milliseconds: Math.round(s * 1000) });

export async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out waiting");
    await sleep(5);
  }
}

/**
 * Moves the queue's clock (Date.now) forward by `ms` until the returned
 * function is called. Timers keep real time, so pending sleeps still end.
 */
export function advanceClock(ms: number): () => void {
  const realNow = Date.now.bind(Date);
  const spy = vi.spyOn(Date, "now").mockImplementation(() => realNow() + ms);
  return () => spy.mockRestore();
}

export function describeQueueContract<Conn>(label: string, backend: QueueBackend<Conn>): void {
  /** Everything opened by a test, closed after it (queues first, then connections). */
  let queues: ContractQueue[];
  let connections: Conn[];
  let closed: Set<Conn>;

  async function open(): Promise<Conn> {
    const conn = await backend.connect();
    connections.push(conn);
    return conn;
  }

  function queue(conn: Conn, options: QueueOptions = {}): ContractQueue {
    const mq = backend.queue(conn, options);
    queues.push(mq);
    return mq;
  }

  async function disconnect(conn: Conn): Promise<void> {
    closed.add(conn);
    await backend.disconnect(conn);
  }

  beforeEach(async () => {
    queues = [];
    connections = [];
    closed = new Set();
    await backend.reset();
  });

  afterEach(async () => {
    await Promise.all(queues.map((mq) => mq.close()));
    for (const conn of connections) if (!closed.has(conn)) await backend.disconnect(conn);
  });

  describe(`${label}: the queue contract`, () => {
    it("passes Fedify's message queue test suite with two queues on two connections", async () => {
      // Two connections, as two processes would have; testOrderingKey checks
      // that same-key messages are handled in order across both listeners.
      await testMessageQueue(
        async () => queue(await open()),
        async ({ mq1, mq2, controller }) => {
          controller.abort();
          await mq1.close();
          await mq2.close();
        },
        { testOrderingKey: true },
      );
    }, 30_000);

    it("hands each message to exactly one of two competing connections", async () => {
      // Fedify's suite compares sets, which would hide a message handled twice.
      const counts = new Map<number, number>();
      const count = (n: number) => void counts.set(n, (counts.get(n) ?? 0) + 1);
      const first = await open();
      const mq1 = queue(first, { concurrency: 4 });
      const mq2 = queue(await open(), { concurrency: 4 });
      void mq1.listen(count);
      void mq2.listen(count);
      const total = 300;
      for (let n = 0; n < total; n += 10) {
        await (n % 20 === 0 ? mq1 : mq2).enqueueMany!(Array.from({ length: 10 }, (_, i) => n + i));
      }
      await waitUntil(() => counts.size === total);
      // Handled messages are deleted once their handler has returned.
      await waitUntil(async () => (await backend.rows(first)).length === 0);
      await sleep(50);
      expect([...counts.values()].every((c) => c === 1)).toBe(true);
      expect(counts.size).toBe(total);
    });

    it("keeps at most hostLimit messages of one host in flight over two connections, while other hosts' messages pass", async () => {
      type Delivery = { host: string; n: number };
      const hostLimit = { hostOf: (m: unknown) => (m as Delivery).host, maxInFlight: 2 };
      const first = await open();
      const mq1 = queue(first, { concurrency: 6, hostLimit });
      const mq2 = queue(await open(), { concurrency: 6, hostLimit });
      let slowInFlight = 0;
      let mostSlowInFlight = 0;
      let releaseSlow!: () => void;
      const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));
      const handled: Delivery[] = [];
      const handle = async (m: unknown) => {
        const delivery = m as Delivery;
        if (delivery.host === "slow.example") {
          mostSlowInFlight = Math.max(mostSlowInFlight, ++slowInFlight);
          await slowReleased;
          slowInFlight--;
        }
        handled.push(delivery);
      };
      void mq1.listen(handle);
      void mq2.listen(handle);
      // The slow host's messages come first in the queue, and there are more of them than both listeners' slots.
      await mq1.enqueueMany!([
        ...Array.from({ length: 20 }, (_, n) => ({ host: "slow.example", n })),
        ...Array.from({ length: 30 }, (_, n) => ({ host: `fast${n % 3}.example`, n })),
      ]);
      await waitUntil(() => handled.length === 30);
      expect(handled.every((d) => d.host !== "slow.example")).toBe(true);
      expect(mostSlowInFlight).toBe(2);
      releaseSlow();
      await waitUntil(() => handled.length === 50);
      expect(mostSlowInFlight).toBe(2);
      await waitUntil(async () => (await backend.rows(first)).length === 0);
    });

    it("wakes a listener on another connection at once instead of waiting for the poll", async () => {
      const listening = queue(await open(), { pollIntervalMs: 60_000 });
      const sending = queue(await open(), { pollIntervalMs: 60_000 });
      const handled: unknown[] = [];
      void listening.listen((m) => void handled.push(m));
      await sleep(100); // the listener is now asleep for a whole poll interval
      const started = Date.now();
      await sending.enqueue({ hello: "world" });
      await waitUntil(() => handled.length === 1, 1_000);
      expect(Date.now() - started).toBeLessThan(500); // the poll would take 60 s
      expect(handled).toEqual([{ hello: "world" }]);
    });

    it("honours delay, waking at the due time rather than the poll interval", async () => {
      const mq = queue(await open(), { pollIntervalMs: 60_000 });
      let handledAfter: number | undefined;
      const started = Date.now();
      void mq.listen(() => {
        handledAfter = Date.now() - started;
      });
      await mq.enqueue("later", { delay: seconds(1.5) });
      expect(await mq.getDepth!()).toEqual({ queued: 1, ready: 0, delayed: 1 });
      await waitUntil(() => handledAfter !== undefined, 3_000);
      expect(handledAfter).toBeGreaterThanOrEqual(1_500);
      expect(handledAfter).toBeLessThan(2_500); // the poll would take 60 s
      expect(await mq.getDepth!()).toEqual({ queued: 0, ready: 0, delayed: 0 });
    });

    it("keeps a message whose handler throws and retries it with a growing backoff", async () => {
      const conn = await open();
      const mq = queue(conn, { retryInitialDelayMs: 200, pollIntervalMs: 60_000 });
      const attemptsAt: number[] = [];
      void mq.listen(() => {
        attemptsAt.push(Date.now());
        if (attemptsAt.length < 3) throw new Error(`boom ${attemptsAt.length}`);
      });
      await mq.enqueue({ type: "Create" });
      await waitUntil(() => attemptsAt.length === 1);
      await waitUntil(async () => (await backend.rows(conn))[0]?.attempts === 1);
      const [failed] = await backend.rows(conn);
      expect(failed?.last_error).toContain("boom 1");
      expect(failed?.locked_until).toBeNull();
      expect(failed!.deliver_at).toBeGreaterThan(Date.now());
      expect(await mq.getDepth!()).toEqual({ queued: 1, ready: 0, delayed: 1 });

      await waitUntil(() => attemptsAt.length === 3, 3_000);
      await waitUntil(async () => (await backend.rows(conn)).length === 0);
      const [first, second, third] = attemptsAt as [number, number, number];
      expect(second - first).toBeGreaterThanOrEqual(200);
      expect(third - second).toBeGreaterThanOrEqual(400);
    });

    it("hands a message left leased by a dead worker to another once its lease expires", async () => {
      const conn = await open();
      const mq = queue(conn, { pollIntervalMs: 50 });
      await mq.enqueue("orphan");
      // What a worker killed mid-handler leaves behind: a lease, no delete.
      const leaseEnd = Date.now() + 600;
      await backend.lease(conn, leaseEnd);
      expect(await mq.getDepth!()).toEqual({ queued: 0, ready: 0, delayed: 0 });

      let handledAt: number | undefined;
      void mq.listen(() => {
        handledAt = Date.now();
      });
      await sleep(400);
      expect(handledAt).toBeUndefined();
      await waitUntil(() => handledAt !== undefined, 2_000);
      expect(handledAt).toBeGreaterThanOrEqual(leaseEnd);
      await waitUntil(async () => (await backend.rows(conn)).length === 0);
    });

    it("delivers a message whose worker vanished mid-handler (connection gone, no ack) once its lease runs out", async () => {
      const leaseMs = 60_000;
      const dying = await open();
      const mqDying = queue(dying, { leaseMs, pollIntervalMs: 50 });
      let releaseDying!: () => void;
      const dyingHangs = new Promise<void>((resolve) => (releaseDying = resolve));
      const seenByDying: unknown[] = [];
      void mqDying.listen(async (m) => {
        seenByDying.push(m);
        await dyingHangs;
      });
      const survivor = await open();
      await queue(survivor).enqueue({ activity: "Create", n: 1 });
      await waitUntil(() => seenByDying.length === 1);
      await disconnect(dying); // the worker is gone: it will never ack, renew or release

      const seenBySurvivor: unknown[] = [];
      void queue(survivor, { leaseMs, pollIntervalMs: 50 }).listen((m) => void seenBySurvivor.push(m));
      let restoreClock: (() => void) | undefined;
      try {
        await sleep(300);
        expect(seenBySurvivor).toEqual([]); // the lease still holds
        expect((await backend.rows(survivor)).map((r) => r.attempts)).toEqual([0]);
        restoreClock = advanceClock(leaseMs + 1_000);
        await waitUntil(() => seenBySurvivor.length === 1, 2_000);
        expect(seenBySurvivor).toEqual([{ activity: "Create", n: 1 }]);
        await waitUntil(async () => (await backend.rows(survivor)).length === 0);
      } finally {
        restoreClock?.();
        releaseDying(); // its outcome cannot be recorded: its connection is closed
      }
    });

    it("renews the lease of a slow handler so no other worker takes its message", async () => {
      // A lease of 500 ms rather than less: under a loaded CI the event loop
      // can stall for a few hundred ms, which would let a short lease lapse
      // before its renewal timer runs (a slow machine, not a queue fault).
      const options = { leaseMs: 500, pollIntervalMs: 20 };
      const first = await open();
      const mq1 = queue(first, options);
      const mq2 = queue(await open(), options);
      let runs = 0;
      const slow = async () => {
        runs++;
        await sleep(2000); // four leases long
      };
      void mq1.listen(slow);
      void mq2.listen(slow);
      await mq1.enqueue("slow");
      await waitUntil(() => runs === 1);
      await sleep(2200);
      expect(runs).toBe(1);
      expect(await backend.rows(first)).toEqual([]);
    });

    it("runs several messages at once but one at a time per ordering key, in order", async () => {
      const mq = queue(await open(), { concurrency: 4 });
      // All queued before listening: the first claim takes a1, b1, free1 and free2 together.
      for (let n = 1; n <= 4; n++) {
        await mq.enqueue({ key: "a", n }, { orderingKey: "a" });
        await mq.enqueue({ key: "b", n }, { orderingKey: "b" });
      }
      await mq.enqueueMany!([1, 2, 3, 4].map((n) => ({ key: `free${n}`, n })));
      const running = new Map<string, number>();
      let maxOverall = 0;
      let maxPerKey = 0;
      const order: Record<string, number[]> = { a: [], b: [] };
      void mq.listen(async (m: { key: string; n: number }) => {
        running.set(m.key, (running.get(m.key) ?? 0) + 1);
        maxPerKey = Math.max(maxPerKey, ...running.values());
        maxOverall = Math.max(maxOverall, [...running.values()].reduce((x, y) => x + y, 0));
        await sleep(30);
        order[m.key]?.push(m.n);
        running.set(m.key, running.get(m.key)! - 1);
      });
      await waitUntil(() => order.a!.length === 4 && order.b!.length === 4);
      expect(order).toEqual({ a: [1, 2, 3, 4], b: [1, 2, 3, 4] });
      expect(maxPerKey).toBe(1);
      expect(maxOverall).toBe(4);
    });

    it("runs one message of a key at a time over two connections, in order", async () => {
      const running = new Map<string, number>();
      let maxPerKey = 0;
      const order: Record<string, number[]> = { a: [], b: [] };
      const handle = async (m: { key: string; n: number }) => {
        running.set(m.key, (running.get(m.key) ?? 0) + 1);
        maxPerKey = Math.max(maxPerKey, ...running.values());
        await sleep(10);
        order[m.key]!.push(m.n);
        running.set(m.key, running.get(m.key)! - 1);
      };
      const mq1 = queue(await open(), { concurrency: 4 });
      const mq2 = queue(await open(), { concurrency: 4 });
      void mq1.listen(handle);
      void mq2.listen(handle);
      const ns = Array.from({ length: 20 }, (_, i) => i + 1);
      await mq1.enqueueMany!(ns.map((n) => ({ key: "a", n })), { orderingKey: "a" });
      await mq2.enqueueMany!(ns.map((n) => ({ key: "b", n })), { orderingKey: "b" });
      await waitUntil(() => order.a!.length === 20 && order.b!.length === 20);
      expect(order).toEqual({ a: ns, b: ns });
      expect(maxPerKey).toBe(1);
    });

    it("does not let a later message of a key overtake one that failed", async () => {
      const mq = queue(await open(), { retryInitialDelayMs: 150, concurrency: 4 });
      const seen: string[] = [];
      let failedOnce = false;
      void mq.listen((m: string) => {
        if (m === "first" && !failedOnce) {
          failedOnce = true;
          throw new Error("transient");
        }
        seen.push(m);
      });
      await mq.enqueueMany!(["first", "second"], { orderingKey: "object-1" });
      await waitUntil(() => seen.length === 2);
      expect(seen).toEqual(["first", "second"]);
    });

    it("lets a later message of a key pass one that is merely delayed", async () => {
      // The behaviour of Fedify's in-process and PostgreSQL queues.
      const mq = queue(await open());
      const seen: string[] = [];
      void mq.listen((m: string) => void seen.push(m));
      await mq.enqueue("delayed", { orderingKey: "k", delay: seconds(1) });
      await mq.enqueue("now", { orderingKey: "k" });
      await waitUntil(() => seen.length === 2);
      expect(seen).toEqual(["now", "delayed"]);
    });

    it("inserts enqueueMany atomically and rejects messages without JSON form", async () => {
      const conn = await open();
      const mq = queue(conn);
      await expect(mq.enqueueMany!(["ok", 10n])).rejects.toThrow(TypeError);
      await expect(mq.enqueue(undefined)).rejects.toThrow(TypeError);
      expect(await backend.rows(conn)).toEqual([]);
      await mq.enqueueMany!([]);
      expect(await backend.rows(conn)).toEqual([]);
    });

    it("handles messages left by a closed connection on a new one", async () => {
      const before = await open();
      await queue(before).enqueueMany!(["one", "two"]);
      await queue(before).enqueue("three", { orderingKey: "k" });
      await disconnect(before);

      const after = await open();
      const mq = queue(after);
      expect(await mq.getDepth!()).toEqual({ queued: 3, ready: 3, delayed: 0 });
      const handled: unknown[] = [];
      void mq.listen((m) => void handled.push(m));
      await waitUntil(() => handled.length === 3);
      expect(new Set(handled)).toEqual(new Set(["one", "two", "three"]));
      await waitUntil(async () => (await backend.rows(after)).length === 0);
    });

    it("resolves listen on abort only after the handlers in flight finish", async () => {
      const conn = await open();
      const mq = queue(conn, { pollIntervalMs: 60_000 });
      const controller = new AbortController();
      let finished = false;
      const listening = mq.listen(
        async () => {
          await sleep(200);
          finished = true;
        },
        { signal: controller.signal },
      );
      await mq.enqueue("in flight");
      await waitUntil(async () => (await backend.rows(conn))[0]?.locked_until != null);
      controller.abort();
      await listening;
      expect(finished).toBe(true);
      expect(await backend.rows(conn)).toEqual([]);
      // Nothing is handled after the abort.
      await mq.enqueue("after abort");
      await sleep(50);
      expect(await backend.rows(conn)).toHaveLength(1);
    });

    it("resolves an idle listen promptly on abort, and on close()", async () => {
      const mq = queue(await open(), { pollIntervalMs: 60_000 });
      const controller = new AbortController();
      const aborted = mq.listen(() => {}, { signal: controller.signal });
      const closed = mq.listen(() => {});
      await sleep(20);
      const started = Date.now();
      controller.abort();
      await aborted;
      await mq.close();
      await closed;
      expect(Date.now() - started).toBeLessThan(1_000); // the poll would take 60 s
    });
  });
}
