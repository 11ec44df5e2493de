/** The instance home: its communities, and how to get started on an empty instance. */
import { Hono } from "hono";
import { countUsers } from "../../accounts/users.ts";
import { fediverseHandle } from "../../api/views.ts";
import { listCommunities } from "../../communities.ts";
import type { WebEnv } from "../context.ts";

export function homePages() {
  const pages = new Hono<WebEnv>();

  pages.get("/", (c) => {
    const { db, origin, instanceName } = c.get("deps");
    const communities = listCommunities(db);
    const firstRun = countUsers(db) === 0;
    return c.render(
      <>
        <h1>{instanceName}</h1>
        <p>
          A Fedalign instance: communities here host alignment policies for language models and their members' preference
          data, and federate them over ActivityPub.
        </p>
        {firstRun ? (
          <div class="panel">
            <p>
              <strong>This instance has no users yet.</strong> Create the first admin with:
            </p>
            <pre>fedalign admin user create &lt;name&gt; --admin --password-stdin --data &lt;data dir&gt;</pre>
          </div>
        ) : null}
        <h2>Communities</h2>
        {communities.length === 0 ? (
          <p>No communities yet.</p>
        ) : (
          <ul>
            {communities.map((community) => (
              <li>
                <a href={`/actors/${community.handle}`}>{community.name}</a>{" "}
                <span class="muted">{fediverseHandle(origin, community.handle)}</span>
              </li>
            ))}
          </ul>
        )}
      </>,
      { title: "Home" },
    );
  });

  return pages;
}
