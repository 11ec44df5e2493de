/**
 * Following and the feed. /follow follows a community, person or policy
 * anywhere by `@handle@host` or URL (as yourself or as a community you
 * steward) through the follow API, and lists what you and your communities
 * follow with an Unfollow button each. /feed shows what arrived from what
 * you follow, newest first, fifty to a page.
 */
import { Hono, type Context } from "hono";
import { actorIri, fediverseHandle } from "../../actors/iris.ts";
import { stewardedCommunities } from "../../app/permissions.ts";
import { feedPage, listFollowing, type FollowWithActor } from "../../follows.ts";
import { findPolicyByIri, type Policy } from "../../policies/policies.ts";
import { followTarget, unfollow } from "../../app/follows.ts";
import { IdParam } from "../../api/schemas.ts";
import { FollowRequest } from "../../app/social-inputs.ts";
import { ActionButton, DateTime, Field, FormError, NEWER_OLDER, Pager, PostForm, Select } from "../components.tsx";
import { ActorName, FeedList } from "../community-components.tsx";
import type { WebEnv } from "../context.ts";
import { formFields, redirectWithNotice, safeNext, signInPath, submitForm } from "../forms.ts";
import { links } from "../links.ts";
import { readerScope } from "./home-pages.tsx";
import { listSentVotes, type SentVote } from "../../participation/sent-votes.ts";
import { safeHref } from "../community-components.tsx";

/** Votes on other instances' proposals that their communities did not count, with the reason they gave. */
function RefusedVotes({ votes }: { votes: SentVote[] }) {
  return (
    <section aria-labelledby="refused-votes">
      <h2 id="refused-votes">Votes not counted</h2>
      <ul class="feed">
        {votes.map((vote) => {
          const href = safeHref(vote.proposalIri);
          return (
            <li class="feed-item refused-vote">
              <p>
                Your vote <strong>{vote.value}</strong> on {href ? <a href={href}>{vote.proposalIri}</a> : vote.proposalIri} was refused:{" "}
                {vote.reason}
              </p>
              <p class="muted">
                <DateTime value={vote.answeredAt ?? vote.sentAt} />
              </p>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

type C = Context<WebEnv>;

const FEED_PAGE_SIZE = 50;

interface Identity {
  /** Empty for the signed-in user; a community handle otherwise. */
  as: string;
  label: string;
  iri: string;
}

async function identities(c: C): Promise<Identity[]> {
  const { db, origin } = c.get("deps");
  const user = c.get("session")!.user;
  return [
    { as: "", label: `Yourself (${fediverseHandle(origin, user.username)})`, iri: actorIri(origin, user.username) },
    ...(await stewardedCommunities(db, user)).map((community) => ({
      as: community.handle,
      label: `${community.name} (${fediverseHandle(origin, community.handle)})`,
      iri: actorIri(origin, community.handle),
    })),
  ];
}

/** What is followed: a policy held here (`policy`, looked up by the handler) by its title, else the actor. */
function Followed(props: { follow: FollowWithActor; origin: string; policy: Policy | undefined }) {
  const policy = props.policy;
  if (policy) {
    return (
      <>
        <a href={links.policy(policy.id)}>{policy.title}</a> <span class="muted">policy</span>
      </>
    );
  }
  return <ActorName actor={props.follow.actor} localOrigin={props.origin} />;
}

/** The follow page, its data loaded first (called by the handler, not rendered as a component). */
async function followPage(props: { c: C; values?: Record<string, string>; errors?: Record<string, string>; message?: string }) {
  const { c } = props;
  const { db, origin } = c.get("deps");
  const who = await identities(c);
  const followingOf = await Promise.all(
    who.map(async (identity) => {
      const following = await listFollowing(db, identity.iri);
      const policies = await Promise.all(
        following.map((follow) => (follow.actor.type === "Policy" ? findPolicyByIri(db, follow.actor.iri) : undefined)),
      );
      return { following, policies };
    }),
  );
  return (
    <>
      <h1>Follow</h1>
      <p>
        Follow a community, a person or a single policy on any instance. New versions of what you follow appear in your{" "}
        <a href={links.feed()}>feed</a> and on the home page.
      </p>
      <PostForm action={links.follow()} label="Follow">
        <FormError message={props.message} />
        <Field
          name="target"
          label="Who or what to follow"
          required
          hint="A handle such as @nurses@care.example, or the URL of a community, person or policy."
          value={props.values?.target}
          error={props.errors?.target}
          autocomplete="off"
        />
        {who.length > 1 ? (
          <Select
            name="as"
            label="Follow as"
            options={who.map((identity) => ({ value: identity.as, label: identity.label }))}
            value={props.values?.as ?? ""}
            error={props.errors?.as}
          />
        ) : null}
        <button type="submit">Follow</button>
      </PostForm>

      {who.map((identity, i) => {
        const { following, policies } = followingOf[i]!;
        const headingId = `following-${identity.as || "me"}`;
        return (
          <section aria-labelledby={headingId}>
            <h2 id={headingId}>
              {identity.as ? `What ${identity.label} follows` : "What you follow"} <span class="muted">({following.length})</span>
            </h2>
            {following.length === 0 ? <p>Nothing yet.</p> : (
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Following</th>
                      <th scope="col">State</th>
                      <th scope="col">Since</th>
                      <th scope="col">Action</th>
                    </tr>
                  </thead>
                  <tbody>
                    {following.map((follow, j) => (
                      <tr>
                        <td><Followed follow={follow} origin={origin} policy={policies[j]} /></td>
                        <td><span class={`state-${follow.state}`}>{follow.state}</span></td>
                        <td><DateTime value={follow.createdAt} /></td>
                        <td>
                          <ActionButton
                            action={`/follow/${follow.id}/unfollow`}
                            fields={{ as: identity.as }}
                            label={`Unfollow ${follow.actor.name ?? follow.actor.handle ?? follow.actor.iri}`}
                            variant="secondary"
                          />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        );
      })}
    </>
  );
}

export function followPages() {
  const pages = new Hono<WebEnv>();

  pages.use("/follow", async (c, next) => {
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    await next();
  });
  pages.use("/follow/*", async (c, next) => {
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    await next();
  });

  pages.get("/follow", async (c) => c.render(await followPage({ c }), { title: "Follow" }));

  pages.post("/follow", async (c) => {
    const fields = await formFields(c);
    const values = { target: (fields.target ?? "").trim(), as: fields.as ?? "" };
    // A Follow button elsewhere (src/web/follow-button.tsx) comes back to its page.
    const back = safeNext(fields.back);
    const result = await submitForm(FollowRequest, { target: values.target, as: values.as || undefined }, async (input) =>
      await followTarget(c.get("deps").context, c.get("session")?.user, input),
    );
    if (result.ok) {
      const name = result.data.actor.name ?? result.data.actor.handle ?? result.data.actor.iri;
      const text = result.data.state === "accepted" ? `You follow ${name}.` : `Asked to follow ${name}; it shows as pending until they accept.`;
      return redirectWithNotice(c, back ?? links.follow(), text);
    }
    if (back) return redirectWithNotice(c, back, `Not followed: ${result.problem.detail}`, "error");
    c.status(result.status as 400);
    const errors = Object.keys(result.fieldErrors).length > 0 ? result.fieldErrors : { target: result.problem.detail };
    return c.render(await followPage({ c, values, errors, message: "Nothing was followed; see the field below." }), { title: "Follow" });
  });

  pages.post("/follow/:id/unfollow", async (c) => {
    const fields = await formFields(c);
    const id = Number(c.req.param("id"));
    if (!Number.isInteger(id) || id <= 0) return redirectWithNotice(c, links.follow(), "Nothing to unfollow there.", "error");
    const back = safeNext(fields.back) ?? links.follow();
    const result = await submitForm(IdParam, { id }, async (input) => await unfollow(c.get("deps").context, c.get("session")?.user, input.id, fields.as || undefined));
    if (!result.ok) return redirectWithNotice(c, back, result.problem.detail, "error");
    const name = result.data.actor.name ?? result.data.actor.handle ?? result.data.actor.iri;
    return redirectWithNotice(c, back, `Unfollowed ${name}.`);
  });

  pages.get("/feed", async (c) => {
    const session = c.get("session");
    if (!session) return c.redirect(signInPath(c), 303);
    const { db, origin } = c.get("deps");
    const pageParam = Number(c.req.query("page") ?? "1");
    const page = Number.isInteger(pageParam) && pageParam >= 1 && pageParam <= 10_000 ? pageParam : 1;
    const { items, more } = await feedPage(db, await readerScope(db, origin, session.user), { offset: (page - 1) * FEED_PAGE_SIZE, limit: FEED_PAGE_SIZE });
    const refused = (await listSentVotes(db, actorIri(origin, session.user.username))).filter((vote) => vote.state === "refused").slice(0, 10);
    return c.render(
      <>
        <h1>Your feed</h1>
        {refused.length > 0 && page === 1 ? <RefusedVotes votes={refused} /> : null}
        <p>
          New versions and proposals of what you and your communities follow, and annotations, offers and forks received on
          your communities' policies, newest first. <a href={links.follow()}>Follow more</a>.
        </p>
        {items.length === 0 ? (
          <p>{page === 1 ? "Nothing has arrived yet." : "There is nothing older."}</p>
        ) : (
          <FeedList items={items} origin={origin} label="Updates" />
        )}
        <Pager page={page} more={more} label="Feed pages" words={NEWER_OLDER} href={(to) => (to === 1 ? links.feed() : `${links.feed()}?page=${to}`)} />
      </>,
      { title: "Feed" },
    );
  });

  return pages;
}
