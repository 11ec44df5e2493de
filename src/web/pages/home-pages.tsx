/**
 * The instance home: its communities; for a signed-in reader their own
 * communities and the newest policy versions across what they (and their
 * communities) follow; and on an empty instance, how to get started.
 */
import { Hono } from "hono";
import type { User } from "../../accounts/users.ts";
import { countUsers } from "../../accounts/users.ts";
import { actorIri, fediverseHandle } from "../../actors/iris.ts";
import { countMembers, listCommunities, listUserCommunities } from "../../communities.ts";
import { followedVersions, localVersions, type FeedScope } from "../../follows.ts";
import { listCommunityPolicies } from "../../policies/policies.ts";
import { firstSteps } from "../../app/onboarding.ts";
import { FirstStepsPanel } from "../first-steps.tsx";
import { Avatar } from "../avatar.tsx";
import type { Db } from "../../../db/client.ts";
import { FeedList } from "../community-components.tsx";
import type { WebEnv } from "../context.ts";
import { links } from "../links.ts";

/** The reader and every community they belong to: whose follows and whose policies their feed covers. */
export async function readerScope(db: Db, origin: string, user: User): Promise<FeedScope> {
  const mine = await listUserCommunities(db, user);
  return {
    followerIris: [actorIri(origin, user.username), ...mine.map((community) => actorIri(origin, community.handle))],
    communityIds: mine.map((community) => community.id),
  };
}


export function homePages() {
  const pages = new Hono<WebEnv>();

  pages.get("/", async (c) => {
    const { db, origin, instanceName } = c.get("deps");
    const session = c.get("session");
    const communities = await listCommunities(db);
    const firstRun = await countUsers(db) === 0;
    const mine = session ? await listUserCommunities(db, session.user) : [];
    const followed = session ? await followedVersions(db, (await readerScope(db, origin, session.user)).followerIris, 10) : [];
    const local = await localVersions(db, 10);
    const counts = await Promise.all(
      communities.map(async (community) => ({
        members: await countMembers(db, community),
        policies: (await listCommunityPolicies(db, community)).length,
      })),
    );
    return c.render(
      <>
        <h1>{instanceName}</h1>
        <p>
          A Fedalign instance: communities here host alignment policies for language models and their members' preference
          data, and federate them over ActivityPub.
        </p>
        <FirstStepsPanel steps={await firstSteps(c.get("deps").context, session?.user)} />
        {firstRun ? (
          <div class="panel">
            <p>
              <strong>This instance has no users yet.</strong> The first account becomes its admin. Use the setup code printed in
              the server's log:
            </p>
            <p>
              <a class="button" href="/setup">
                Set up this instance
              </a>
            </p>
            <p class="muted">
              Or create the admin from the command line:{" "}
              <code>fedalign admin user create &lt;name&gt; --admin --password-stdin --data &lt;data dir&gt;</code>
            </p>
          </div>
        ) : null}

        {session ? (
          <section aria-labelledby="mine">
            <h2 id="mine">Your communities</h2>
            {mine.length === 0 ? (
              <p>You are not a member of any community yet.</p>
            ) : (
              <ul class="community-list">
                {mine.map((community) => (
                  <li>
                    <Avatar seed={actorIri(origin, community.handle)} kind="community" />
                    <a href={links.community(community.handle)}>{community.name}</a>{" "}
                    <span class="muted">
                      {fediverseHandle(origin, community.handle)} · {community.role}
                    </span>
                  </li>
                ))}
              </ul>
            )}
            <p>
              <a class="button secondary" href={links.newCommunity()}>
                Create a community
              </a>
            </p>
          </section>
        ) : null}

        {session ? (
          <section aria-labelledby="followed">
            <h2 id="followed">Recent versions from what you follow</h2>
            {followed.length === 0 ? (
              <p>
                Nothing yet. <a href={links.follow()}>Follow a community or policy</a> to see its new versions here.
              </p>
            ) : (
              <>
                <FeedList items={followed} origin={origin} label="Recent versions from what you follow" />
                <p>
                  <a href={links.feed()}>All updates in your feed</a>
                </p>
              </>
            )}
          </section>
        ) : null}

        <section aria-labelledby="communities">
          <h2 id="communities">Communities on this instance</h2>
          {communities.length === 0 ? (
            <p>No communities yet.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Community</th>
                    <th scope="col">Handle</th>
                    <th scope="col">Members</th>
                    <th scope="col">Policies</th>
                  </tr>
                </thead>
                <tbody>
                  {communities.map((community, i) => (
                    <tr>
                      <td>
                        <Avatar seed={actorIri(origin, community.handle)} kind="community" />
                        <a href={links.community(community.handle)}>{community.name}</a>
                      </td>
                      <td>{fediverseHandle(origin, community.handle)}</td>
                      <td>{counts[i]!.members}</td>
                      <td>{counts[i]!.policies}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>

        {local.length > 0 ? (
          <section aria-labelledby="local-versions">
            <h2 id="local-versions">Recently published here</h2>
            <FeedList items={local} origin={origin} label="Recently published on this instance" />
          </section>
        ) : null}
      </>,
      { title: "Home" },
    );
  });

  return pages;
}
