/**
 * The first steps of a new instance, for its admins: create a community,
 * import or write a policy, publish it, invite members, follow a community
 * on another instance. Each step is read from what exists (no flags are
 * stored), so a step done from the command line or the API is ticked too,
 * and undoing it (deleting the only community) unticks it.
 */
import { and, count, eq, gte, isNotNull, sql, type SQL } from "drizzle-orm";
import { first, countRows } from "../../db/client.ts";
import { follows, invites, memberships, policies, policyVersions } from "../../db/schema.ts";
import { listCommunities } from "../communities.ts";
import type { AppContext } from "./context.ts";
import { isAdmin, type Viewer } from "./permissions.ts";

export const FIRST_STEPS = ["community", "policy", "publish", "invite", "follow"] as const;
export type FirstStepKey = (typeof FIRST_STEPS)[number];

export interface FirstSteps {
  done: Record<FirstStepKey, boolean>;
  /** A follow of another instance that was sent and not answered yet. */
  followPending: boolean;
  /** Where the next steps happen: the first community's handle, a local policy not yet published (or else any). */
  community?: string;
  policyId?: number;
}

/** The instance's first steps and which are done; undefined for anyone but an admin (they are the admin's to take). */
export async function firstSteps(ctx: AppContext, viewer: Viewer): Promise<FirstSteps | undefined> {
  if (!isAdmin(viewer)) return undefined;
  const { db, origin } = ctx;
  const community = (await listCommunities(db))[0];
  const local = await db.select({ id: policies.id }).from(policies).where(isNotNull(policies.communityId));
  const published = new Set(
    (await db
      .selectDistinct({ id: policyVersions.policyId })
      .from(policyVersions)
      .innerJoin(policies, eq(policies.id, policyVersions.policyId))
      .where(isNotNull(policies.communityId)))
      .map((row) => row.id),
  );
  const busyCommunity = await first(
    db
      .select({ n: count() })
      .from(memberships)
      .groupBy(memberships.communityId)
      .having(({ n }) => gte(n, 2))
      .limit(1),
  );
  // A follow from someone here (a user or a community) of something elsewhere; rejected ones do not count.
  const here = (iri: typeof follows.followerIri | typeof follows.followeeIri): SQL => sql`substr(${iri}, 1, ${origin.length + 1}) = ${`${origin}/`}`;
  const outward = async (state: "accepted" | "pending") =>
    await countRows(db, follows, and(here(follows.followerIri), sql`not ${here(follows.followeeIri)}`, eq(follows.state, state))) > 0;
  return {
    done: {
      community: community !== undefined,
      policy: local.length > 0,
      publish: published.size > 0,
      invite: await countRows(db, invites) > 0 || busyCommunity !== undefined,
      follow: await outward("accepted"),
    },
    followPending: await outward("pending"),
    community: community?.handle,
    policyId: (local.find((policy) => !published.has(policy.id)) ?? local[0])?.id,
  };
}

/** True once nothing is left to do (the checklist then goes away). */
export function allFirstStepsDone(steps: FirstSteps): boolean {
  return FIRST_STEPS.every((key) => steps.done[key]);
}
