/**
 * Community pages: the HTML view of a local actor (a community's page with
 * its members, policies, followers, what it follows and forks of its
 * policies; a person's short profile), creating a community, and the
 * stewards' forms (name and summary, who may join, members, follow
 * requests). Follow and Join buttons come from ../follow-button.tsx and
 * ../membership-components.tsx. Every form calls a use case through
 * submitForm as the signed-in user.
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { findActorByIdentifier, type LocalActor } from "../../actors/local-actors.ts";
import { actorIri, fediverseHandle } from "../../actors/iris.ts";
import {
  countPendingJoinRequests,
  findCommunity,
  findCommunityByActorId,
  listMembers,
  memberRole,
  type Community,
} from "../../communities.ts";
import { countFollowers, listFollowers, listFollowing } from "../../follows.ts";
import { findFederatedActor } from "../../actors/remote-actors.ts";
import { listForks } from "../../policies/forks.ts";
import { findPolicyByIri, headVersion, listCommunityPolicies } from "../../policies/policies.ts";
import { CommunityChanges, MembershipBody, NewCommunity } from "../../app/social-inputs.ts";
import { createNewCommunity, removeMemberFrom, setMemberRole, updateCommunityProfile } from "../../app/communities.ts";
import { answerFollowRequest } from "../../app/follows.ts";
import { isSteward } from "../../app/permissions.ts";
import { IdParam } from "../../api/schemas.ts";
import { ActionButton, DateTime, Field, FormError, PostForm, SectionTitle, Select, TextArea } from "../components.tsx";
import { ActorName, safeHref } from "../community-components.tsx";
import { Avatar } from "../avatar.tsx";
import { Term } from "../glossary.tsx";
import type { WebEnv } from "../context.ts";
import { formFields, optional, redirectWithNotice, submitForm } from "../forms.ts";
import { links } from "../links.ts";
import { ErrorPage } from "./error-page.tsx";
import { FollowButton, followStanding, type FollowStanding } from "../follow-button.tsx";
import { JOIN_POLICY_WORDS, JoinControl, joinStanding } from "../membership-components.tsx";

type C = Context<WebEnv>;

/** Whom a removal names: any string, since the use case says whether they are a member. */
const MembershipRemoval = z.object({ username: z.string() });

interface FormState {
  values?: Record<string, string>;
  errors?: Record<string, string>;
  message?: string;
}

function notFound(c: C) {
  c.status(404);
  return c.render(<ErrorPage title="Not found" detail="No such actor on this instance." />, { title: "Not found" });
}

function pageCommunity(community: Community) {
  return { name: community.name, handle: community.handle, href: links.community(community.handle) };
}

async function canSteward(c: C, community: Community): Promise<boolean> {
  return await isSteward(c.get("deps").db, community, c.get("session")?.user);
}

/** A problem the API reported without a field path goes beside the field it is about. */
function errorsWithFallback(result: { fieldErrors: Record<string, string>; problem: { detail: string } }, field: string) {
  return Object.keys(result.fieldErrors).length > 0 ? result.fieldErrors : { [field]: result.problem.detail };
}

function PersonPage(props: { actor: LocalActor; origin: string; followers: number; follow: FollowStanding | undefined }) {
  const { actor, origin } = props;
  return (
    <>
      <h1>
        <Avatar seed={actorIri(origin, actor.identifier)} kind={actor.kind === "user" ? "person" : "community"} large />
        {actor.name}
      </h1>
      <p class="muted">
        {fediverseHandle(origin, actor.identifier)} · {actor.kind === "user" ? "person" : actor.kind} · {props.followers === 1 ? "1 follower" : `${props.followers} followers`}
      </p>
      {actor.summary ? <p>{actor.summary}</p> : null}
      <FollowButton target={actorIri(origin, actor.identifier)} name={actor.name} follow={props.follow} />
      <p>
        Follow from any fediverse account by searching for <code>{fediverseHandle(origin, actor.identifier)}</code>.
      </p>
    </>
  );
}

async function renderCommunity(c: C, community: Community, forms: { settings?: FormState; member?: FormState } = {}) {
  const { db, origin } = c.get("deps");
  const session = c.get("session");
  const steward = await canSteward(c, community);
  const role = session ? await memberRole(db, community, session.user) : undefined;
  const iri = actorIri(origin, community.handle);
  const handle = fediverseHandle(origin, community.handle);
  const members = await listMembers(db, community);
  const policies = await listCommunityPolicies(db, community);
  const followers = await listFollowers(db, iri);
  const accepted = followers.filter((f) => f.state === "accepted");
  const pending = followers.filter((f) => f.state === "pending");
  const following = await listFollowing(db, iri);
  const forks = (await Promise.all(policies.map(async (policy) => (await listForks(db, policy)).map((fork) => ({ policy, fork }))))).flat();
  const forkRows = await Promise.all(
    forks.map(async ({ policy, fork }) => ({
      policy,
      fork,
      owner: await findFederatedActor(db, fork.forkOwnerIri),
      held: await findPolicyByIri(db, fork.forkIri),
    })),
  );
  const heads = await Promise.all(policies.map((policy) => headVersion(db, policy)));
  const followedPolicies = await Promise.all(following.map((f) => (f.actor.type === "Policy" ? findPolicyByIri(db, f.actor.iri) : undefined)));
  const followerCount = await countFollowers(db, iri);
  const followState = await followStanding(c, iri);
  const standing = await joinStanding(c, community);
  const settings = forms.settings ?? {};
  const member = forms.member ?? {};
  const base = links.community(community.handle);

  return c.render(
    <>
      <h1>
        <Avatar seed={iri} kind="community" large />
        {community.name}
      </h1>
      <p class="muted">
        {handle} · community · {followerCount === 1 ? "1 follower" : `${followerCount} followers`}
        {community.manuallyApprovesFollowers ? " · approves followers by hand" : ""}
        {role ? ` · you are a ${role}` : ""}
      </p>
      {community.summary ? <p class="feed-text">{community.summary}</p> : null}
      <div class="community-actions">
        <FollowButton target={iri} name={community.name} follow={followState} />
        <JoinControl community={community} standing={standing} detailed />
      </div>
      <p class="muted">
        {JOIN_POLICY_WORDS[community.joinPolicy]}. Follow it from another instance with <code>{handle}</code>.
      </p>
      <nav aria-label="Community pages">
        <ul class="link-row">
          <li><a href="#policies">Policies</a></li>
          <li><a href={links.communityTasks(community.handle)}>Preference tasks</a></li>
          <li><a href={links.communityStatements(community.handle)}>Statements</a></li>
          <li><a href={links.communityOpinions(community.handle)}>Opinion groups</a></li>
          <li><a href={links.decisionRules(community.handle)}>Decision rules</a></li>
        </ul>
      </nav>

      <section aria-labelledby="policies">
        <SectionTitle id="policies" count={policies.length}>
          Policies
        </SectionTitle>
        {policies.length === 0 ? <p>No policies yet.</p> : (
          <ul>
            {policies.map((policy, i) => {
              const head = heads[i];
              return (
                <li>
                  <a href={links.policy(policy.id)}>{policy.title}</a>{" "}
                  <span class="muted">
                    {head ? `version ${head.number}` : "draft, not published yet"}
                    {policy.upstreamIri ? " · fork" : ""}
                  </span>
                </li>
              );
            })}
          </ul>
        )}
        {steward ? (
          <p>
            <a class="button secondary" href={links.newPolicy(community.handle)}>
              New policy
            </a>
          </p>
        ) : null}
      </section>

      <section aria-labelledby="forks">
        <SectionTitle id="forks" count={forks.length}>
          Forks of its policies
        </SectionTitle>
        {forks.length === 0 ? <p>No other community has told us of a fork yet.</p> : (
          <ul>
            {forkRows.map(({ policy, fork, owner, held }) => {
              const href = held ? links.policy(held.id) : safeHref(fork.forkIri);
              return (
                <li>
                  <ActorName actor={{ iri: fork.forkOwnerIri, name: owner?.name ?? null, handle: owner?.handle ?? null, url: owner?.url ?? null }} localOrigin={origin} />{" "}
                  forked <a href={links.policy(policy.id)}>{policy.title}</a>
                  {href ? <> · <a href={href}>their fork</a></> : null}{" "}
                  <span class="muted"><DateTime value={fork.receivedAt} /></span>
                </li>
              );
            })}
          </ul>
        )}
      </section>

      <section aria-labelledby="members">
        <SectionTitle id="members" count={members.length}>
          Members
        </SectionTitle>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Role</th>
                <th scope="col">Joined</th>
                {steward ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {members.map((m) => (
                <tr>
                  <td>
                    <Avatar seed={actorIri(origin, m.username)} kind="person" />
                    <a href={links.community(m.username)}>{m.displayName}</a> <span class="muted">@{m.username}</span>
                  </td>
                  <td>
                    <Term name={m.role}>{m.role}</Term>
                  </td>
                  <td><DateTime value={m.joinedAt} /></td>
                  {steward ? (
                    <td>
                      <ActionButton action={`${base}/members/${m.username}/remove`} label={`Remove ${m.username}`} variant="danger" />
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {steward ? (
          <p>
            <a href={links.joinRequests(community.handle)}>Join requests and invite links</a>
            {await countPendingJoinRequests(db, community) > 0 ? <strong> ({await countPendingJoinRequests(db, community)} waiting)</strong> : null}
          </p>
        ) : null}
        {steward ? (
          <PostForm action={`${base}/members`} label="Add a member">
            <h3>Add a member or change a role</h3>
            <FormError message={member.message} />
            <Field name="username" label="Username on this instance" required value={member.values?.username} error={member.errors?.username} />
            <Select
              name="role"
              label="Role"
              options={[{ value: "member", label: "Member" }, { value: "steward", label: "Steward" }]}
              value={member.values?.role ?? "member"}
              error={member.errors?.role}
            />
            <button type="submit">Add member</button>
          </PostForm>
        ) : null}
      </section>

      <section aria-labelledby="followers">
        <SectionTitle id="followers" count={accepted.length}>
          Followers
        </SectionTitle>
        {steward && pending.length > 0 ? (
          <>
            <h3>Follow requests waiting for approval ({pending.length})</h3>
            <ul>
              {pending.map((f) => (
                <li>
                  <ActorName actor={f.actor} localOrigin={origin} />{" "}
                  <ActionButton action={`${base}/followers/${f.id}/accept`} label="Approve" />
                  <ActionButton action={`${base}/followers/${f.id}/reject`} label="Refuse" variant="secondary" />
                </li>
              ))}
            </ul>
          </>
        ) : null}
        {accepted.length === 0 ? <p>No followers yet.</p> : (
          <ul aria-label="Followers">
            {accepted.map((f) => (
              <li>
                <ActorName actor={f.actor} localOrigin={origin} />
                {steward ? <> <ActionButton action={`${base}/followers/${f.id}/reject`} label="Remove follower" variant="secondary" /></> : null}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="following">
        <SectionTitle id="following" count={following.length}>
          Follows
        </SectionTitle>
        {following.length === 0 ? <p>It follows nothing yet.</p> : (
          <ul>
            {following.map((f, i) => {
              const policy = followedPolicies[i];
              return (
                <li>
                  {policy ? <a href={links.policy(policy.id)}>{policy.title}</a> : <ActorName actor={f.actor} localOrigin={origin} />}{" "}
                  <span class={`state-${f.state}`}>{f.state}</span>
                </li>
              );
            })}
          </ul>
        )}
        {steward ? <p><a href={links.follow()}>Follow a community or policy as {community.name}</a></p> : null}
      </section>

      {steward ? (
        <section aria-labelledby="settings">
          <h2 id="settings">Community settings</h2>
          <PostForm action={`${base}/settings`} label="Community settings">
            <FormError message={settings.message} />
            <Field name="name" label="Name" required value={settings.values?.name ?? community.name} error={settings.errors?.name} />
            <TextArea name="summary" label="Summary" value={settings.values?.summary ?? community.summary} error={settings.errors?.summary} />
            <Select
              name="manuallyApprovesFollowers"
              label="Who may follow"
              options={[
                { value: "false", label: "Anyone (follows are accepted at once)" },
                { value: "true", label: "Approved by a steward" },
              ]}
              value={settings.values?.manuallyApprovesFollowers ?? String(community.manuallyApprovesFollowers)}
              error={settings.errors?.manuallyApprovesFollowers}
            />
            <Select
              name="joinPolicy"
              label="Who may join"
              hint="Invite links work whatever you choose here."
              options={[
                { value: "open", label: "Anyone signed in here (they join at once)" },
                { value: "approval", label: "People a steward approves (they ask to join)" },
                { value: "invite", label: "Only people with an invite link" },
              ]}
              value={settings.values?.joinPolicy ?? community.joinPolicy}
              error={settings.errors?.joinPolicy}
            />
            <button type="submit">Save settings</button>
          </PostForm>
        </section>
      ) : null}
    </>,
    { title: community.name, community: pageCommunity(community) },
  );
}

function NewCommunityForm(props: FormState) {
  return (
    <>
      <h1>Create a community</h1>
      <p>A community owns policies and its members' preference data. You become its first steward.</p>
      <PostForm action={links.newCommunity()} label="Create a community">
        <FormError message={props.message} />
        <Field
          name="handle"
          label="Handle"
          required
          hint="Lower-case letters a-z, digits and underscores; others follow the community as @handle@this-instance. It cannot be changed later."
          value={props.values?.handle}
          error={props.errors?.handle}
          autocomplete="off"
        />
        <Field name="name" label="Name" required value={props.values?.name} error={props.errors?.name} />
        <TextArea name="summary" label="Summary" hint="What the community is and who it is for." value={props.values?.summary} error={props.errors?.summary} />
        <button type="submit">Create community</button>
      </PostForm>
    </>
  );
}

export function communityPages() {
  const pages = new Hono<WebEnv>();

  pages.get("/@:identifier", (c) => c.redirect(`/actors/${c.req.param("identifier")}`, 301));

  pages.get("/communities/new", (c) => {
    if (!c.get("session")) return c.redirect(`/login?next=${encodeURIComponent(links.newCommunity())}`, 303);
    return c.render(<NewCommunityForm />, { title: "Create a community" });
  });

  pages.post("/communities/new", async (c) => {
    if (!c.get("session")) return c.redirect(`/login?next=${encodeURIComponent(links.newCommunity())}`, 303);
    const fields = await formFields(c);
    const values = { handle: (fields.handle ?? "").trim(), name: fields.name ?? "", summary: fields.summary ?? "" };
    const input = { handle: values.handle, name: values.name, summary: optional(values.summary) };
    const result = await submitForm(NewCommunity, input, async (data) => await createNewCommunity(c.get("deps").context, c.get("session")?.user, data));
    if (result.ok) return redirectWithNotice(c, links.community(result.data.handle), `Created ${values.name.trim()}; you are its steward.`);
    c.status(result.status === 409 ? 409 : 400);
    const errors = errorsWithFallback(result, "handle");
    return c.render(<NewCommunityForm values={values} errors={errors} message="The community was not created; see the fields below." />, {
      title: "Create a community",
    });
  });

  pages.get("/actors/:identifier", async (c) => {
    const { db, origin } = c.get("deps");
    const actor = await findActorByIdentifier(db, c.req.param("identifier"));
    if (!actor) return notFound(c);
    const community = actor.kind === "community" ? await findCommunityByActorId(db, actor.id) : undefined;
    if (community) return await renderCommunity(c, community);
    const followers = await countFollowers(db, actorIri(origin, actor.identifier));
    const follow = await followStanding(c, actorIri(origin, actor.identifier));
    return c.render(<PersonPage actor={actor} origin={origin} followers={followers} follow={follow} />, {
      title: actor.name,
    });
  });

  pages.post("/actors/:handle/settings", async (c) => {
    const community = await findCommunity(c.get("deps").db, c.req.param("handle"));
    if (!community) return notFound(c);
    const fields = await formFields(c);
    const values = {
      name: fields.name ?? "",
      summary: fields.summary ?? "",
      manuallyApprovesFollowers: fields.manuallyApprovesFollowers ?? "false",
      joinPolicy: fields.joinPolicy ?? community.joinPolicy,
    };
    const input = { name: values.name, summary: values.summary, manuallyApprovesFollowers: values.manuallyApprovesFollowers === "true", joinPolicy: values.joinPolicy };
    const result = await submitForm(CommunityChanges, input, async (changes) =>
      await updateCommunityProfile(c.get("deps").context, c.get("session")?.user, community.handle, changes),
    );
    if (result.ok) return redirectWithNotice(c, links.community(community.handle), "Settings saved.");
    c.status(result.status as 400);
    return await renderCommunity(c, community, {
      settings: { values, errors: result.fieldErrors, message: result.problem.detail },
    });
  });

  pages.post("/actors/:handle/members", async (c) => {
    const community = await findCommunity(c.get("deps").db, c.req.param("handle"));
    if (!community) return notFound(c);
    const fields = await formFields(c);
    const values = { username: (fields.username ?? "").trim(), role: fields.role ?? "member" };
    if (!values.username) {
      c.status(400);
      return await renderCommunity(c, community, { member: { values, errors: { username: "Enter the username of someone on this instance." } } });
    }
    const result = await submitForm(MembershipBody, { role: values.role }, async ({ role }) =>
      await setMemberRole(c.get("deps").context, c.get("session")?.user, community.handle, values.username, role),
    );
    if (result.ok) return redirectWithNotice(c, `${links.community(community.handle)}#members`, `${values.username} is now a ${values.role}.`);
    c.status(result.status as 400);
    return await renderCommunity(c, community, { member: { values, errors: errorsWithFallback(result, "username") } });
  });

  pages.post("/actors/:handle/members/:username/remove", async (c) => {
    const handle = c.req.param("handle");
    const username = c.req.param("username");
    const result = await submitForm(MembershipRemoval, { username }, async () => await removeMemberFrom(c.get("deps").context, c.get("session")?.user, handle, username));
    const back = `${links.community(handle)}#members`;
    if (result.ok) return redirectWithNotice(c, back, `Removed ${username} from the community.`);
    return redirectWithNotice(c, back, result.problem.detail, "error");
  });

  for (const answer of ["accept", "reject"] as const) {
    pages.post(`/actors/:handle/followers/:id/${answer}`, async (c) => {
      const handle = c.req.param("handle");
      const id = Number(c.req.param("id"));
      const back = `${links.community(handle)}#followers`;
      if (!Number.isInteger(id) || id <= 0) return redirectWithNotice(c, back, "No such follow request.", "error");
      const result = await submitForm(IdParam, { id }, async (input) => await answerFollowRequest(c.get("deps").context, c.get("session")?.user, input.id, answer, handle));
      if (!result.ok) return redirectWithNotice(c, back, result.problem.detail, "error");
      const who = result.data.actor.handle ?? result.data.actor.iri;
      return redirectWithNotice(c, back, answer === "accept" ? `${who} now follows the community.` : `${who} does not follow the community.`);
    });
  }

  return pages;
}
