import { first, countRows } from "../db/client.ts";
/** NodeInfo 2.1: tells crawlers and other servers what software this is. */
import type { Federation } from "@fedify/fedify";
import { and, count, eq, isNull } from "drizzle-orm";
import { communities, policies, policyVersions, settings, users } from "../db/schema.ts";
import { SOFTWARE_NAME, SOFTWARE_REPOSITORY, SOFTWARE_VERSION } from "../src/version.ts";
import type { InstanceData } from "./context.ts";

async function mirroredVersions(db: InstanceData["db"]): Promise<number> {
  return (await first(
    db
      .select({ n: count() })
      .from(policyVersions)
      .innerJoin(policies, eq(policies.id, policyVersions.policyId))
      .where(and(isNull(policies.communityId), isNull(policyVersions.retractedAt)))
      .limit(1),
  ))?.n ?? 0;
}

export function registerNodeInfo(federation: Federation<InstanceData>): void {
  federation.setNodeInfoDispatcher("/nodeinfo/2.1", async (ctx) => {
    const db = ctx.data.db;
    const nameRow = await first(db.select().from(settings).where(eq(settings.key, "instance.name")).limit(1));
    const registrationRow = await first(db.select().from(settings).where(eq(settings.key, "instance.registration")).limit(1));
    return {
      software: {
        name: SOFTWARE_NAME,
        version: SOFTWARE_VERSION,
        repository: new URL(SOFTWARE_REPOSITORY),
        homepage: new URL(SOFTWARE_REPOSITORY),
      },
      protocols: ["activitypub"],
      openRegistrations: registrationRow?.value === "open",
      usage: {
        users: { total: await countRows(db, users) },
        // Published policy versions are this software's posts.
        localPosts: await countRows(db, policyVersions, isNull(policyVersions.retractedAt)) - await mirroredVersions(db),
        localComments: 0,
      },
      metadata: {
        nodeName: typeof nameRow?.value === "string" ? nameRow.value : ctx.host,
        nodeDescription: "A Fedalign instance: federated alignment policies and preference data for language models.",
        communities: await countRows(db, communities),
      },
    };
  });
}
