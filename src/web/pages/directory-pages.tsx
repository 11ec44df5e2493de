/**
 * Finding and joining communities: the directory (this instance's
 * communities, then the remote ones it knows, searchable, twenty to a page),
 * a remote community's or person's page here (with a Follow button), joining,
 * withdrawing a request and leaving, the stewards' page of join requests and
 * invite links, and the page an invite link opens. Every form calls a use
 * case of src/app/communities.ts through submitForm.
 */
import { Hono, type Context } from "hono";
import { fediverseHandle } from "../../actors/iris.ts";
import { findFederatedActorById } from "../../actors/remote-actors.ts";
import type { RemoteCommunityListing } from "../../actors/remote-actors.ts";
import {
  communityDirectory,
  createInvite,
  decideJoinRequest,
  inspectInvite,
  joinCommunity,
  leaveCommunity,
  listInvites,
  listJoinRequests,
  redeemInvite,
  withdrawInvite,
  withdrawJoinRequest,
} from "../../app/communities.ts";
import { isSteward } from "../../app/permissions.ts";
import { DirectoryQuery, InviteRedemption, JoinBody, NewInvite } from "../../app/social-inputs.ts";
import { findCommunity, type Community, type CommunityListing } from "../../communities.ts";
import { listPoliciesOwnedBy } from "../../policies/policies.ts";
import { HandleParam, IdParam } from "../../api/schemas.ts";
import { NotFoundError } from "../../errors.ts";
import { ActionButton, DateTime, Field, FormError, Pager, PostForm, RemoteHtml, Select, SignInLink } from "../components.tsx";
import { safeHref } from "../community-components.tsx";
import type { WebEnv } from "../context.ts";
import { FollowButton, followStanding, type FollowStanding } from "../follow-button.tsx";
import { formFields, redirectWithNotice, safeNext, signInPath, submitForm } from "../forms.ts";
import { links } from "../links.ts";
import { JOIN_POLICY_WORDS, JoinControl, joinStanding, type JoinStanding } from "../membership-components.tsx";
import { ErrorPage } from "./error-page.tsx";

type C = Context<WebEnv>;

/** A summary cut to a readable length for a list. */
function excerpt(text: string, length = 280): string {
  return text.length <= length ? text : `${text.slice(0, length).trimEnd()}…`;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function LocalEntry(props: { community: CommunityListing; origin: string; standing: JoinStanding | undefined; follow: FollowStanding | undefined }) {
  const { community, origin } = props;
  return (
    <li class="card directory-entry">
      <h3 class="directory-name">
        <a href={links.community(community.handle)}>{community.name}</a>
      </h3>
      <p class="muted directory-facts">
        {fediverseHandle(origin, community.handle)} · on this instance · {plural(community.members, "member", "members")} ·{" "}
        {plural(community.policies, "policy", "policies")} · {JOIN_POLICY_WORDS[community.joinPolicy]}
      </p>
      {community.summary ? <p class="directory-summary">{excerpt(community.summary)}</p> : null}
      <div class="directory-actions">
        <JoinControl community={community} standing={props.standing} />
        <FollowButton target={`${origin}/actors/${community.handle}`} name={community.name} follow={props.follow} />
      </div>
    </li>
  );
}

function RemoteEntry(props: { actor: RemoteCommunityListing; follow: FollowStanding | undefined }) {
  const { actor } = props;
  const name = actor.name ?? actor.handle ?? actor.iri;
  return (
    <li class="card directory-entry">
      <h3 class="directory-name">
        <a href={links.remoteActor(actor.id)}>{name}</a>
      </h3>
      <p class="muted directory-facts">
        {actor.handle ?? actor.iri} · on {new URL(actor.iri).host} · {plural(actor.policies, "policy", "policies")} held here
      </p>
      {actor.summary ? <RemoteHtml html={actor.summary} class="directory-summary" /> : null}
      <div class="directory-actions">
        <FollowButton target={actor.iri} name={name} follow={props.follow} />
      </div>
    </li>
  );
}

/** The directory page, its data loaded first (called by the handler, not rendered as a component). */
async function directoryPage(props: { c: C; q: string; page: number; error?: string }) {
  const { c, q } = props;
  const { origin, context } = c.get("deps");
  const found = await communityDirectory(context, { q: props.error ? undefined : q || undefined, page: props.page });
  const localStanding = await Promise.all(
    found.local.map(async (community) => ({
      standing: await joinStanding(c, community),
      follow: await followStanding(c, `${origin}/actors/${community.handle}`),
    })),
  );
  const remoteFollows = await Promise.all(found.remote.map((actor) => followStanding(c, actor.iri)));
  return (
    <>
      <h1>Communities</h1>
      <p>
        Communities on this instance, then communities elsewhere in the fediverse that this instance knows of (it has followed
        them, or they have followed or written to it). Join one here, or follow any of them to see their new policy versions
        in your feed.
      </p>
      <form method="get" action={links.directory()} class="directory-search" role="search" aria-label="Search communities">
        <div class="field">
          <label for="q">Search by name, handle or summary</label>
          <input id="q" name="q" type="search" value={q} maxlength={100} aria-invalid={props.error ? "true" : undefined} aria-describedby={props.error ? "q-error" : undefined} />
          {props.error ? <p class="field-error" id="q-error">{props.error}</p> : null}
        </div>
        <button type="submit">Search</button>
      </form>
      {c.get("session") ? (
        <p>
          <a class="button secondary" href={links.newCommunity()}>Create a community</a>
        </p>
      ) : null}
      <p class="muted" role="status">
        {found.total === 0 ? (q ? `No community matches “${q}”.` : "No communities yet.") : `${plural(found.total, "community", "communities")}${q ? ` match “${q}”` : ""}; page ${found.page} of ${found.pages}.`}
      </p>
      {found.local.length > 0 ? (
        <section aria-labelledby="here">
          <h2 id="here">On this instance</h2>
          <ul class="directory">
            {found.local.map((community, i) => (
              <LocalEntry community={community} origin={origin} standing={localStanding[i]!.standing} follow={localStanding[i]!.follow} />
            ))}
          </ul>
        </section>
      ) : null}
      {found.remote.length > 0 ? (
        <section aria-labelledby="elsewhere">
          <h2 id="elsewhere">Elsewhere</h2>
          <ul class="directory">
            {found.remote.map((actor, i) => <RemoteEntry actor={actor} follow={remoteFollows[i]} />)}
          </ul>
        </section>
      ) : null}
      {/* The count is in the line above; the pager only links. */}
      <Pager page={found.page} more={found.page < found.pages} label="Directory pages" words={["Previous page", "Next page"]} href={(page) => links.directory({ q, page })} />
      <p>
        Know a community's handle? <a href={links.follow()}>Follow it by @handle@host</a>.
      </p>
    </>
  );
}

/** A remote actor's page, its data loaded first (called by the handler). */
async function remoteActorPage(props: { c: C; id: number }) {
  const { db } = props.c.get("deps");
  const actor = (await findFederatedActorById(db, props.id))!;
  const name = actor.name ?? actor.handle ?? actor.iri;
  const held = await listPoliciesOwnedBy(db, actor.iri);
  const follow = await followStanding(props.c, actor.iri);
  const elsewhere = safeHref(actor.url ?? actor.iri);
  const kind = actor.type === "Group" ? "community" : actor.type === "Person" ? "person" : actor.type.toLowerCase();
  return (
    <>
      <h1>{name}</h1>
      <p class="muted">
        {actor.handle ?? actor.iri} · {kind} on {new URL(actor.iri).host}
      </p>
      <FollowButton target={actor.iri} name={name} follow={follow} />
      {actor.summary ? <RemoteHtml html={actor.summary} /> : null}
      {elsewhere ? (
        <p>
          <a href={elsewhere}>Its page on {new URL(actor.iri).host}</a>
        </p>
      ) : null}
      <section aria-labelledby="held">
        <h2 id="held">Its policies on this instance <span class="muted">({held.length})</span></h2>
        {held.length === 0 ? (
          <p>None yet: following it brings its next published versions here.</p>
        ) : (
          <ul>
            {held.map((policy) => (
              <li>
                <a href={links.policy(policy.id)}>{policy.title}</a>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

interface InviteFormState {
  values?: Record<string, string>;
  errors?: Record<string, string>;
  message?: string;
  created?: { url: string; singleUse: boolean; expiresAt: Date };
}

/** The stewards' page of join requests and invites, its data loaded first (called by the handler). */
async function requestsPage(props: { c: C; community: Community; invite?: InviteFormState }) {
  const { c, community } = props;
  const { context } = c.get("deps");
  const user = c.get("session")?.user;
  const requests = await listJoinRequests(context, user, community.handle);
  const invites = await listInvites(context, user, community.handle);
  const base = links.joinRequests(community.handle);
  const invite = props.invite ?? {};
  return (
    <>
      <h1>Join requests and invite links</h1>
      <p>
        {community.name} · {JOIN_POLICY_WORDS[community.joinPolicy]}. Change this under “Who may join” in the{" "}
        <a href={`${links.community(community.handle)}#settings`}>community settings</a>.
      </p>
      <section aria-labelledby="pending">
        <h2 id="pending">Waiting for a decision <span class="muted">({requests.length})</span></h2>
        {requests.length === 0 ? <p>No requests are waiting.</p> : (
          <ul class="join-requests">
            {requests.map((request) => (
              <li class="card">
                <p>
                  <a href={links.community(request.username)}>{request.displayName}</a> <span class="muted">@{request.username} · asked <DateTime value={request.createdAt} /></span>
                </p>
                {request.message ? <p class="feed-text">{request.message}</p> : null}
                <ActionButton action={`${base}/${request.id}/approve`} label={`Approve ${request.username}`} />
                <ActionButton action={`${base}/${request.id}/refuse`} label={`Refuse ${request.username}`} variant="secondary" />
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="invites">
        <h2 id="invites">Invite links</h2>
        <p>Whoever opens an invite link and signs in becomes a member, whatever the join policy. Only a fingerprint of each link is kept, so copy a new link now: it is shown once.</p>
        {invite.created ? (
          <div class="panel token-created" role="status">
            <p>
              <strong>New invite link</strong> ({invite.created.singleUse ? "works once" : "works for anyone"} until <DateTime value={invite.created.expiresAt} />):
            </p>
            <label for="invite-url">Link to copy</label>
            <input id="invite-url" class="token-value" type="text" readonly value={invite.created.url} />
          </div>
        ) : null}
        <PostForm action={`${links.community(community.handle)}/invites`} label="Create an invite link">
          <FormError message={invite.message} />
          <Select
            name="singleUse"
            label="Who may use it"
            options={[{ value: "true", label: "One person (the link works once)" }, { value: "false", label: "Anyone with the link, until it expires" }]}
            value={invite.values?.singleUse ?? "true"}
            error={invite.errors?.singleUse}
          />
          <Field name="validDays" label="Valid for (days)" type="number" min={1} max={90} required value={invite.values?.validDays ?? "7"} error={invite.errors?.validDays} />
          <button type="submit">Create invite link</button>
        </PostForm>
        {invites.length === 0 ? <p>No invite link is usable now.</p> : (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Usable invite links</caption>
              <thead>
                <tr><th scope="col">Link</th><th scope="col">Used</th><th scope="col">Expires</th><th scope="col">Action</th></tr>
              </thead>
              <tbody>
                {invites.map((item) => (
                  <tr>
                    <td>{item.maxUses === 1 ? "Single use" : "Until it expires"} <span class="muted">(created <DateTime value={item.createdAt} />)</span></td>
                    <td>{plural(item.uses, "time", "times")}</td>
                    <td><DateTime value={item.expiresAt} /></td>
                    <td><ActionButton action={`${links.community(community.handle)}/invites/${item.id}/withdraw`} label={`Withdraw link ${item.id}`} variant="secondary" /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function InvitePage(props: { c: C; token: string; community: Community; problem?: string }) {
  const { c, token, community, problem } = props;
  const session = c.get("session");
  return (
    <>
      <h1>Join {community.name}</h1>
      {community.summary ? <p class="feed-text">{community.summary}</p> : null}
      {problem ? <p class="notice notice-error">{problem}</p> : !session ? (
        <p>
          <SignInLink>Sign in to join</SignInLink> (or <a href="/signup">sign up</a>, then open this link again).
        </p>
      ) : (
        <PostForm action={`/join/${encodeURIComponent(token)}`} label={`Join ${community.name}`}>
          <p>You have been invited to become a member of {community.name}.</p>
          <button type="submit">Join {community.name}</button>
        </PostForm>
      )}
      <p>
        <a href={links.community(community.handle)}>About {community.name}</a>
      </p>
    </>
  );
}

function notFound(c: C, detail = "No such community on this instance.") {
  c.status(404);
  return c.render(<ErrorPage title="Not found" detail={detail} />, { title: "Not found" });
}

function pageCommunity(community: Community) {
  return { name: community.name, handle: community.handle, href: links.community(community.handle) };
}

/** A read that may name something unknown (an invite link): undefined then, for a 404 page. */
async function foundOrUndefined<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** Where a join, withdraw or leave form comes back to: the page it was on, else the community. */
function backTo(fields: Record<string, string>, handle: string): string {
  return safeNext(fields.back) ?? links.community(handle);
}

export function directoryPages() {
  const pages = new Hono<WebEnv>();

  pages.get("/communities", async (c) => {
    const parsed = DirectoryQuery.safeParse({ q: c.req.query("q"), page: c.req.query("page") ?? "1" });
    const q = (c.req.query("q") ?? "").trim().slice(0, 100);
    if (!parsed.success) {
      c.status(400);
      return c.render(await directoryPage({ c, q, page: 1, error: `The search ${parsed.error.issues[0]?.message ?? "is not valid"}.` }), { title: "Communities" });
    }
    return c.render(await directoryPage({ c, q: parsed.data.q ?? "", page: parsed.data.page }), { title: "Communities" });
  });

  pages.get("/remote-actors/:id", async (c) => {
    const id = Number(c.req.param("id"));
    if (!Number.isInteger(id) || id <= 0 || !await findFederatedActorById(c.get("deps").db, id)) return notFound(c, "This instance knows no such actor.");
    const actor = (await findFederatedActorById(c.get("deps").db, id))!;
    return c.render(await remoteActorPage({ c, id }), { title: actor.name ?? actor.handle ?? "Remote actor" });
  });

  pages.post("/actors/:handle/join", async (c) => {
    const handle = c.req.param("handle");
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const fields = await formFields(c);
    const back = backTo(fields, handle);
    const result = await submitForm(JoinBody, { message: fields.message || undefined }, async (input) => await joinCommunity(c.get("deps").context, c.get("session")?.user, handle, input));
    if (!result.ok) return redirectWithNotice(c, back, result.problem.detail, "error");
    const name = result.data.community.name;
    const text = result.data.state === "member" ? `You joined ${name}.` : `Asked to join ${name}; a steward will approve or refuse your request.`;
    return redirectWithNotice(c, back, text);
  });

  pages.post("/actors/:handle/join/withdraw", async (c) => {
    const handle = c.req.param("handle");
    const fields = await formFields(c);
    const back = backTo(fields, handle);
    const result = await submitForm(HandleParam, { handle }, async (input) => await withdrawJoinRequest(c.get("deps").context, c.get("session")?.user, input.handle));
    if (!result.ok) return redirectWithNotice(c, back, result.problem.detail, "error");
    return redirectWithNotice(c, back, "Your request to join was withdrawn.");
  });

  pages.post("/actors/:handle/leave", async (c) => {
    const handle = c.req.param("handle");
    const result = await submitForm(HandleParam, { handle }, async (input) => await leaveCommunity(c.get("deps").context, c.get("session")?.user, input.handle));
    if (!result.ok) return redirectWithNotice(c, links.community(handle), result.problem.detail, "error");
    return redirectWithNotice(c, links.community(handle), `You left ${result.data.name}.`);
  });

  pages.get("/actors/:handle/requests", async (c) => {
    const { db } = c.get("deps");
    const community = await findCommunity(db, c.req.param("handle"));
    if (!community) return notFound(c);
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    if (!await isSteward(db, community, c.get("session")?.user)) {
      c.status(403);
      return c.render(<ErrorPage title="Stewards only" detail={`Only stewards of ${community.name} see its join requests.`} />, { title: "Stewards only" });
    }
    return c.render(await requestsPage({ c, community }), { title: "Join requests", community: pageCommunity(community) });
  });

  for (const decision of ["approve", "refuse"] as const) {
    pages.post(`/actors/:handle/requests/:id/${decision}`, async (c) => {
      const handle = c.req.param("handle");
      const back = links.joinRequests(handle);
      const result = await submitForm(IdParam, { id: c.req.param("id") }, async ({ id }) =>
        await decideJoinRequest(c.get("deps").context, c.get("session")?.user, handle, id, decision),
      );
      if (!result.ok) return redirectWithNotice(c, back, result.problem.detail, "error");
      const who = result.data.username;
      return redirectWithNotice(c, back, decision === "approve" ? `${who} is now a member.` : `Refused ${who}'s request to join.`);
    });
  }

  pages.post("/actors/:handle/invites", async (c) => {
    const community = await findCommunity(c.get("deps").db, c.req.param("handle"));
    if (!community) return notFound(c);
    const fields = await formFields(c);
    const values = { singleUse: fields.singleUse ?? "true", validDays: fields.validDays ?? "" };
    const input = { singleUse: values.singleUse !== "false", validDays: values.validDays.trim() === "" ? Number.NaN : Number(values.validDays) };
    const result = await submitForm(NewInvite, input, async (data) => await createInvite(c.get("deps").context, c.get("session")?.user, community.handle, data));
    if (!result.ok) {
      if (result.status === 403 || result.status === 401) return redirectWithNotice(c, links.community(community.handle), result.problem.detail, "error");
      c.status(400);
      return c.render(await requestsPage({ c, community, invite: { values, errors: result.fieldErrors, message: "No invite link was created; see the fields below." } }), {
        title: "Join requests",
        community: pageCommunity(community),
      });
    }
    const created = { url: result.data.url, singleUse: result.data.invite.maxUses === 1, expiresAt: result.data.invite.expiresAt };
    return c.render(await requestsPage({ c, community, invite: { created } }), { title: "Join requests", community: pageCommunity(community) });
  });

  pages.post("/actors/:handle/invites/:id/withdraw", async (c) => {
    const handle = c.req.param("handle");
    const back = links.joinRequests(handle);
    const result = await submitForm(IdParam, { id: c.req.param("id") }, async ({ id }) => await withdrawInvite(c.get("deps").context, c.get("session")?.user, handle, id));
    if (!result.ok) return redirectWithNotice(c, back, result.problem.detail, "error");
    return redirectWithNotice(c, back, "The invite link was withdrawn; it no longer works.");
  });

  pages.get("/join/:token", async (c) => {
    const token = c.req.param("token");
    const found = await foundOrUndefined(async () => await inspectInvite(c.get("deps").context, token));
    if (!found) return notFound(c, "This invite link is not valid; check that it was copied whole, or ask a steward for a new one.");
    return c.render(<InvitePage c={c} token={token} community={found.community} problem={found.problem} />, { title: `Join ${found.community.name}` });
  });

  pages.post("/join/:token", async (c) => {
    const token = c.req.param("token");
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const result = await submitForm(InviteRedemption, { token }, async (input) => await redeemInvite(c.get("deps").context, c.get("session")?.user, input.token));
    if (!result.ok) return redirectWithNotice(c, `/join/${encodeURIComponent(token)}`, result.problem.detail, "error");
    return redirectWithNotice(c, links.community(result.data.handle), `You joined ${result.data.name}.`);
  });

  return pages;
}
