/**
 * Statements and opinions: members vote agree / disagree / pass on
 * statements and submit new ones, stewards moderate them, and everyone sees
 * the opinion groups (a map of participants), each statement's support per
 * group, and the consensus and bridging statements.
 */
import { Hono, type Context } from "hono";
import type { WebEnv } from "../context.ts";
import { ActionButton, FormError, PostForm, SectionTitle, SignInLink, TextArea } from "../components.tsx";
import { formFields, redirectWithNotice, signInPath, submitForm } from "../forms.ts";
import { links } from "../links.ts";
import { ChoiceButtons, communityOrThrow, pageCommunity, percent } from "../participation-components.tsx";
import { GROUP_COLOURS, OpinionMap, groupName } from "../opinion-map.tsx";
import { isSteward } from "../../app/permissions.ts";
import { memberRole } from "../../communities.ts";
import {
  communityConversations,
  communityStatements,
  moderateStatement,
  ModerationInput,
  NewStatementInput,
  opinions as opinionLandscape,
  StatementVoteInput,
  submitStatement,
  voteOnStatementAs,
} from "../../app/statements.ts";

const STATEMENT_CHOICES = [
  { value: "agree", label: "Agree" },
  { value: "disagree", label: "Disagree" },
  { value: "pass", label: "Pass" },
];

/**
 * The conversation a page shows: `?conversation=name`, or all of the
 * community's together when none is named (one conversation is the usual case).
 */
function scopeOf(c: Context<WebEnv>, community: string): { community: string; conversation?: string; across: boolean; name: string | undefined } {
  const name = c.req.query("conversation") || undefined;
  return name ? { community, conversation: name, across: false, name } : { community, across: true, name };
}

/** Links to each conversation of the community (shown when it has more than one). */
function ConversationNav(props: { base: string; names: string[]; current: string | undefined }) {
  if (props.names.length < 2) return <></>;
  return (
    <nav aria-label="Conversations">
      <p>
        Conversations:{" "}
        {props.current === undefined ? <strong>all</strong> : <a href={props.base}>all</a>}
        {props.names.map((name) => (
          <>
            {" · "}
            {props.current === name ? <strong>{name}</strong> : <a href={`${props.base}?conversation=${encodeURIComponent(name)}`}>{name}</a>}
          </>
        ))}
      </p>
    </nav>
  );
}

/** A statement id from the path; anything else is no statement (404). */
function numericId(id: string): number {
  const n = Number(id);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** How many consensus and bridging statements to list. */
const TOP = 5;

export function statementPages() {
  const pages = new Hono<WebEnv>();

  const statementsPage = async (c: Context<WebEnv>, submitted?: { text: string; error: string }) => {
    const handle = c.req.param("handle") ?? "";
    const community = await communityOrThrow(c.get("deps").db, handle);
    const { db, context } = c.get("deps");
    const viewer = c.get("session")?.user;
    const scope = scopeOf(c, community.handle);
    const rows = await communityStatements(context, viewer, scope);
    const names = (await communityConversations(context, community.handle)).map((x) => x.name);
    // Only members vote on statements (admins who are not members read them).
    const member = viewer !== undefined && await memberRole(db, community, viewer) !== undefined;
    const steward = await isSteward(db, community, viewer);
    const accepted = rows.filter((row) => row.moderation === "accepted");
    const pending = rows.filter((row) => row.moderation === "pending");
    const voted = accepted.filter((row) => row.myVote).length;
    return c.render(
      <>
        <h1>Statements of {community.name}</h1>
        <ConversationNav base={links.communityStatements(community.handle)} names={names} current={scope.name} />
        <p>
          Agree, disagree or pass on each statement; you can change your vote. The <a href={links.communityOpinions(community.handle)}>opinion groups</a> are worked out
          from everyone's votes.
        </p>
        {member ? (
          <p class="muted">
            You have voted on {voted} of {accepted.length}.
          </p>
        ) : c.get("session") ? (
          <p class="muted">Only members of {community.name} vote and submit statements.</p>
        ) : (
          <p class="muted">
            <SignInLink /> to vote.
          </p>
        )}
        <SectionTitle count={accepted.length}>Statements</SectionTitle>
        {accepted.length === 0 ? <p class="muted">No statements yet.</p> : null}
        <ol class="statements">
          {accepted.map((row) => (
            <li class="card statement" id={`statement-${row.id}`}>
              <p class="statement-body">{row.body}</p>
              <p class="muted">
                {row.agrees} agree, {row.disagrees} disagree, {row.passes} pass
                {member ? (
                  <>
                    {" · "}
                    {row.myVote ? (
                      <>
                        Your vote: <strong class="my-vote">{row.myVote}</strong>
                      </>
                    ) : (
                      "You have not voted"
                    )}
                  </>
                ) : null}
              </p>
              {member ? (
                <ChoiceButtons
                  action={`/actors/${community.handle}/statements/${row.id}/vote`}
                  choices={STATEMENT_CHOICES.map((choice) => ({ ...choice, label: `${choice.label}` }))}
                  current={row.myVote}
                  label={`Your vote on: ${row.body.slice(0, 80)}`}
                />
              ) : null}
            </li>
          ))}
        </ol>
        {member || steward ? (
          <>
            <h2>Submit a statement</h2>
            <p class="muted">A steward reviews it before members vote on it.</p>
            <FormError message={submitted ? "The statement was not submitted." : undefined} />
            <PostForm action={links.communityStatements(community.handle)} label="Submit a statement">
              <TextArea name="body" label="Statement" required rows={3} value={submitted?.text} error={submitted?.error} hint="One idea others can agree or disagree with, up to 1,000 characters." />
              <button type="submit">Submit the statement</button>
            </PostForm>
          </>
        ) : null}
        {steward ? (
          <section aria-labelledby="moderation">
            <SectionTitle id="moderation" count={pending.length}>
              Awaiting moderation
            </SectionTitle>
            {pending.length === 0 ? <p class="muted">Nothing to review.</p> : null}
            <ul class="statements">
              {pending.map((row) => (
                <li class="card">
                  <p class="statement-body">{row.body}</p>
                  <p class="muted">Submitted by {row.author}</p>
                  <ActionButton action={`/actors/${community.handle}/statements/${row.id}/moderate`} label="Approve" fields={{ decision: "accepted" }} />
                  <ActionButton action={`/actors/${community.handle}/statements/${row.id}/moderate`} label="Reject" fields={{ decision: "rejected" }} variant="danger" />
                </li>
              ))}
            </ul>
          </section>
        ) : null}
      </>,
      { title: `Statements of ${community.name}`, community: pageCommunity(community) },
    );
  };

  pages.get("/actors/:handle/statements", async (c) => await statementsPage(c));

  pages.post("/actors/:handle/statements", async (c) => {
    const handle = c.req.param("handle");
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const { body = "" } = await formFields(c);
    const result = await submitForm(NewStatementInput, { community: handle, body }, async (data) => await submitStatement(c.get("deps").context, c.get("session")?.user, data));
    if (!result.ok) {
      c.status(result.status as 400);
      return await statementsPage(c, { text: body, error: result.fieldErrors.body ?? result.problem.detail });
    }
    return redirectWithNotice(c, links.communityStatements(handle), "Statement submitted; a steward reviews it before members vote on it.");
  });

  pages.post("/actors/:handle/statements/:id/vote", async (c) => {
    const { handle, id } = c.req.param();
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const { value } = await formFields(c);
    const result = await submitForm(StatementVoteInput, { value }, async (data) => await voteOnStatementAs(c.get("deps").context, c.get("session")?.user, numericId(id), data.value));
    const back = `${links.communityStatements(handle)}#statement-${id}`;
    if (!result.ok) return redirectWithNotice(c, back, `Your vote was not recorded: ${result.problem.detail || result.problem.title}`, "error");
    return redirectWithNotice(c, back, `Recorded: ${value}.`);
  });

  pages.post("/actors/:handle/statements/:id/moderate", async (c) => {
    const { handle, id } = c.req.param();
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const { decision } = await formFields(c);
    const result = await submitForm(ModerationInput, { decision }, async (data) => await moderateStatement(c.get("deps").context, c.get("session")?.user, numericId(id), data.decision));
    if (!result.ok) return redirectWithNotice(c, links.communityStatements(handle), `Not moderated: ${result.problem.detail || result.problem.title}`, "error");
    return redirectWithNotice(c, links.communityStatements(handle), decision === "accepted" ? "Statement approved: members can vote on it." : "Statement rejected.");
  });

  pages.get("/actors/:handle/opinions", async (c) => {
    const handle = c.req.param("handle");
    const community = await communityOrThrow(c.get("deps").db, handle);
    const { context } = c.get("deps");
    const scope = scopeOf(c, community.handle);
    const opinions = await opinionLandscape(context, scope);
    const names = (await communityConversations(context, community.handle)).map((x) => x.name);
    const groups = opinions.groups;
    return c.render(
      <>
        <h1>Opinion groups in {community.name}</h1>
        <ConversationNav base={links.communityOpinions(community.handle)} names={names} current={scope.name} />
        {opinions.participants === 0 ? (
          <p>
            No votes yet. <a href={links.communityStatements(community.handle)}>Vote on statements</a> and the groups appear here.
          </p>
        ) : (
          <>
            <p>
              {opinions.participants} participants who voted on enough statements fall into {groups.length} opinion group{groups.length === 1 ? "" : "s"}, found from their
              votes (principal components and k-means, as Polis does).
              {opinions.excluded && opinions.excluded.length > 0 ? ` ${opinions.excluded.length} with too few votes are left out.` : ""}{" "}
              <a href={links.communityStatements(community.handle)}>Vote on statements</a>
            </p>
            <OpinionMap points={opinions.projection} groups={groups} title={`Opinion groups in ${community.name}`} />

            <section aria-labelledby="consensus">
              <SectionTitle id="consensus">Consensus across groups</SectionTitle>
              <p class="muted">Statements every group tends to agree with (group-informed consensus).</p>
              <ol class="consensus-list">
                {opinions.consensus.slice(0, TOP).map((s) => (
                  <li>
                    {s.body} <span class="muted">({percent(s.consensus)})</span>
                  </li>
                ))}
              </ol>
            </section>

            <section aria-labelledby="bridging">
              <SectionTitle id="bridging">Bridging statements</SectionTitle>
              <p class="muted">Statements liked across the divide: support not explained by which side people are on.</p>
              <ol class="bridging-list">
                {opinions.bridging.slice(0, TOP).map((s) => (
                  <li>
                    {s.body} <span class="muted">(score {s.intercept.toFixed(2)})</span>
                  </li>
                ))}
              </ol>
            </section>

            <section aria-labelledby="support">
              <SectionTitle id="support">Support per group</SectionTitle>
              <div class="table-wrap">
                <table class="support">
                  <caption class="visually-hidden">Share of each group that agrees and disagrees with each statement</caption>
                  <thead>
                    <tr>
                      <th scope="col">Statement</th>
                      {groups.map((g) => (
                        <th scope="col">
                          <svg class="opinion-swatch" viewBox="0 0 12 12" aria-hidden="true" focusable="false">
                            <circle class={`op-g${g.id % GROUP_COLOURS}`} cx="6" cy="6" r="5" />
                          </svg>
                          {groupName(g.id)} ({g.size})
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {opinions.statements.map((s) => (
                      <tr>
                        <th scope="row" class="support-statement">
                          {s.body}
                        </th>
                        {groups.map((g) => {
                          const support = s.groups.find((x) => x.group === g.id);
                          return (
                            <td>
                              {support && support.n > 0 ? (
                                <>
                                  <span class="agree-share">{percent(support.agreeShare)} agree</span>
                                  <br />
                                  <span class="muted">
                                    {percent(support.disagreeShare)} disagree · {support.n} voted
                                  </span>
                                </>
                              ) : (
                                <span class="muted">no votes</span>
                              )}
                            </td>
                          );
                        })}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          </>
        )}
      </>,
      { title: `Opinion groups in ${community.name}`, community: pageCommunity(community) },
    );
  });

  return pages;
}
