/**
 * Publishing throughput with followers: versions per second from a steward's
 * "publish" to a Create queued for every follower's inbox.
 *
 * - outbox: the publish use case (draft -> signed version and its
 *   `version.published` effect in one transaction), then the outbox
 *   dispatcher turning the effect into Fedify queue messages (written in one
 *   transaction with the effect's "dispatched" mark).
 * - direct (baseline): the same domain publication, then the activity handed
 *   to Fedify straight after the commit, as before the outbox existed.
 *
 * Both run on one instance in this process; rounds alternate, and so does
 * which way goes first. The queue is not
 * started, so nothing leaves the machine: this measures what a publish costs
 * the server, not the network. Followers are remote actors on 127.0.0.1 with
 * a shared inbox per host, as large servers have.
 *
 *   npm run bench:publish -- [--versions 100] [--followers 100] [--hosts 10] [--rounds 3]
 */
import "../src/polyfills.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { count } from "drizzle-orm";
import { federatedActors, fedifyQueue, follows } from "../db/schema.ts";
import { createUser, type User } from "../src/accounts/users.ts";
import { publishVersion } from "../src/app/policies.ts";
import { createCommunity } from "../src/communities.ts";
import { openInstance, type Instance } from "../src/instance.ts";
import { configureLogging } from "../src/logging.ts";
import { policyContentSchema, type PolicyContent } from "../src/policies/content.ts";
import { createPolicy, getPolicyById, saveDraft, type Policy } from "../src/policies/policies.ts";
import { publishDraft } from "../src/policies/publish.ts";
import { sendVersionPublished } from "../federation/policy-activities.ts";
import { first } from "../db/client.ts";

const { values: args } = parseArgs({
  options: {
    versions: { type: "string", default: "100" },
    followers: { type: "string", default: "100" },
    hosts: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
  },
});
const VERSIONS = Number(args.versions);
const FOLLOWERS = Number(args.followers);
const HOSTS = Number(args.hosts);
const ROUNDS = Number(args.rounds);

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const baseContent: PolicyContent = policyContentSchema.parse({
  title: "Benchmark policy",
  summary: "A policy published over and over.",
  licence: "CC-BY-4.0",
  clauses: Array.from({ length: 20 }, (_, i) => ({
    id: `clause-${i}`,
    title: `Clause ${i}`,
    authority: "guideline",
    text: `The assistant follows rule ${i} with care and explains itself when it declines.`,
  })),
});

interface Setup {
  instance: Instance;
  steward: User;
  policy: Policy;
  dataDir: string;
}

async function setUp(): Promise<Setup> {
  const dataDir = mkdtempSync(join(tmpdir(), "fedalign-bench-publish-"));
  const instance = await openInstance({ dataDir, origin: "http://127.0.0.1:9", allowPrivateAddress: true });
  const steward = await createUser(instance.db, { username: "stella", password: "correct horse battery staple" });
  const community = await createCommunity(instance.db, { handle: "garden", name: "Garden", steward });
  const policy = await createPolicy(instance.db, { origin: instance.origin, community, slug: "bench", content: baseContent });
  const now = new Date();
  await instance.db.transaction(async () => {
    for (let i = 0; i < FOLLOWERS; i++) {
      const host = `127.0.${1 + (i % HOSTS)}.1:8${String(i % HOSTS).padStart(3, "0")}`;
      const iri = `http://${host}/users/f${i}`;
      await instance.db
        .insert(federatedActors)
        .values({ iri, type: "Person", handle: `f${i}`, inboxUrl: `${iri}/inbox`, sharedInboxUrl: `http://${host}/inbox`, fetchedAt: now });
      await instance.db
        .insert(follows)
        .values({ followerIri: iri, followeeIri: policy.ownerIri, activityIri: `${iri}#follow`, state: "accepted", updatedAt: now });
    }
  });
  return { instance, steward, policy, dataDir };
}

let edits = 0;
async function changeDraft(setup: Setup): Promise<void> {
  edits++;
  const content = structuredClone(baseContent);
  content.clauses[edits % content.clauses.length]!.text += ` (amendment ${edits})`;
  await saveDraft(setup.instance.db, await getPolicyById(setup.instance.db, setup.policy.id), content);
}

async function publishThroughOutbox(setup: Setup): Promise<void> {
  const { instance, steward, policy } = setup;
  await publishVersion(instance.context, steward, policy.id, { message: "bench" });
  await instance.outbox.dispatchDue();
}

async function publishDirectly(setup: Setup): Promise<void> {
  const { instance, policy } = setup;
  const version = await publishDraft(instance.db, {
    policy: await getPolicyById(instance.db, policy.id),
    message: "bench",
    ownerFollowersIri: instance.context.federation.followersIri("garden"),
    sign: instance.context.federation.signerFor("garden"),
  });
  const ctx = instance.federation.createContext(new URL(instance.origin), instance.data);
  await sendVersionPublished(ctx, await getPolicyById(instance.db, policy.id), version);
}

async function round(setup: Setup, publish: (setup: Setup) => Promise<void>): Promise<number> {
  // Warm-up publication (key import, JSON-LD contexts).
  await changeDraft(setup);
  await publish(setup);
  const start = performance.now();
  for (let i = 0; i < VERSIONS; i++) {
    await changeDraft(setup);
    await publish(setup);
  }
  return VERSIONS / ((performance.now() - start) / 1000);
}

const queued = async (setup: Setup) => (await first(setup.instance.db.select({ n: count() }).from(fedifyQueue).limit(1)))?.n ?? 0;

configureLogging("error");
console.log(
  `Publish benchmark: ${VERSIONS} versions per round, ${FOLLOWERS} followers on ${HOSTS} hosts, ${ROUNDS} rounds per way, Node ${process.version}.`,
);
const setup = await setUp();
const rates: Record<"outbox" | "direct", number[]> = { outbox: [], direct: [] };
try {
  for (let r = 1; r <= ROUNDS; r++) {
    // Alternate which way goes first, so neither always runs on a warmer process.
    for (const way of r % 2 === 1 ? (["outbox", "direct"] as const) : (["direct", "outbox"] as const)) {
      const before = await queued(setup);
      const rate = await round(setup, way === "outbox" ? publishThroughOutbox : publishDirectly);
      rates[way].push(rate);
      const messages = await queued(setup) - before;
      console.log(
        `round ${r} ${way.padEnd(6)} ${rate.toFixed(1).padStart(6)} versions/s  queue messages ${messages}  peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`,
      );
    }
  }
  const outbox = median(rates.outbox);
  const direct = median(rates.direct);
  console.log("\nmedians                          versions/s");
  console.log(`outbox (use case + dispatcher)   ${outbox.toFixed(1).padStart(10)}`);
  console.log(`direct (send after the commit)   ${direct.toFixed(1).padStart(10)}`);
  console.log(`ratio (outbox / direct)          ${(outbox / direct).toFixed(2).padStart(10)}   (target >= 0.90)`);
  console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
} finally {
  await setup.instance.close();
  rmSync(setup.dataDir, { recursive: true, force: true });
}
