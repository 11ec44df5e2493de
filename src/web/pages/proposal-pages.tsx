/**
 * Proposals and votes: a policy's proposals (the builder a member proposes
 * with is ./proposal-builder-pages.tsx), one proposal (its diff, rule, tally, vote buttons, outcome
 * and discussion), and the community's decision rules for stewards.
 */
import { Hono, type Context } from "hono";
import type { WebEnv } from "../context.ts";
import { DateTime, Field, FormError, NoticeHere, PostForm, SectionTitle, Select, SignInLink, TextArea } from "../components.tsx";
import { formFields, redirectWithNotice, signInPath, submitForm } from "../forms.ts";
import { links } from "../links.ts";
import { ChoiceButtons, TallyTable, communityOrThrow, pageCommunity, percent, percentNumber, shareFromPercent } from "../participation-components.tsx";
import { AUTHORITY_LABELS, AuthorityTag, authorityName } from "../policy-components.tsx";
import { Term } from "../glossary.tsx";
import { findLocalPolicy, findVersionByIri, getPolicyById, versionContent, type Policy } from "../../policies/policies.ts";
import { findCommunity, findCommunityById, type Community } from "../../communities.ts";
import { AUTHORITY_LEVELS } from "../../policies/content.ts";
import { applyChangeSet } from "../../policies/changeset.ts";
import { PolicyDiffView } from "../diff-components.tsx";
import { findProposal, proposalChanges } from "../../participation/proposals.ts";
import { THRESHOLDS } from "../../participation/decision.ts";
import { castVote, decisionRules, DecisionRulesInput, VoteInput, policyProposals, proposalDetails, setDecisionRules, type ProposalDetails } from "../../app/proposals.ts";
import { isMember, isSteward } from "../../app/permissions.ts";
import { annotate, annotationsOf } from "../../app/annotations.ts";
import { NewAnnotation } from "../../app/social-inputs.ts";

type ProposalView = ProposalDetails;

const VOTE_CHOICES = [
  { value: "yes", label: "Yes" },
  { value: "no", label: "No" },
  { value: "abstain", label: "Abstain" },
  { value: "block", label: "Block" },
];
const DISCUSSION_MOTIVATIONS = ["comment", "question", "endorse", "object"];

function stateLabel(state: string): string {
  return state === "open" ? "Open" : state === "adopted" ? "Adopted" : "Rejected";
}

export function proposalPages() {
  const pages = new Hono<WebEnv>();

  pages.get("/policies/:id/proposals", async (c) => {
    const policy = await policyFor(c);
    const community = await localCommunityOf(c, policy);
    if (!community) return remotePolicy(c, policy);
    const proposals = await policyProposals(c.get("deps").context, policy.id);
    const open = proposals.filter((p) => p.state === "open");
    const closed = proposals.filter((p) => p.state !== "open");
    const canPropose = await isMember(c.get("deps").db, community, c.get("session")?.user);
    const List = (props: { rows: ProposalView[]; empty: string }) =>
      props.rows.length === 0 ? (
        <p class="muted">{props.empty}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Proposal</th>
                <th scope="col">Changes</th>
                <th scope="col">State</th>
                <th scope="col">Tally</th>
                <th scope="col">Closes</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((p) => (
                <tr>
                  <td>
                    <a href={links.proposal(p.id)}>{p.title}</a>
                  </td>
                  <td>{p.changes}</td>
                  <td>
                    <strong>{stateLabel(p.state)}</strong>
                    {p.state !== "open" ? <div class="muted">{p.tally.reason}</div> : null}
                  </td>
                  <td>
                    {p.tally.counts.yes} yes, {p.tally.counts.no} no, {p.tally.counts.abstain} abstain, {p.tally.counts.block} block
                  </td>
                  <td>
                    <DateTime value={p.effectiveClosesAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
    return c.render(
      <>
        <p class="muted">
          <a href={links.policy(policy.id)}>{policy.title}</a>
        </p>
        <h1>Proposals for {policy.title}</h1>
        {canPropose ? (
          <p>
            <a class="button" href={links.newProposal(policy.id)}>
              Propose a change
            </a>
          </p>
        ) : (
          <p class="muted">Members of {community.name} can propose changes and vote on them.</p>
        )}
        <p>
          <a href={links.decisionRules(community.handle)}>How {community.name} decides</a>
        </p>
        <SectionTitle count={open.length}>Open</SectionTitle>
        <List rows={open} empty="No proposal is open." />
        <SectionTitle count={closed.length}>Closed</SectionTitle>
        <List rows={closed} empty="No proposal has closed yet." />
      </>,
      { title: `Proposals for ${policy.title}`, community: pageCommunity(community) },
    );
  });

  const proposalPage = async (c: Context<WebEnv>, comment: { values: { motivation?: string; text?: string }; errors: Record<string, string>; message?: string }) => {
    const id = c.req.param("id") ?? "";
    const { db, context } = c.get("deps");
    const proposal = await proposalDetails(context, proposalId(id), c.get("session")?.user);
    const policy = await getPolicyById(db, proposal.policyId);
    const community = await communityOrThrow(db, proposal.community);
    const row = (await findProposal(db, proposal.id))!;
    const baseVersion = await findVersionByIri(db, row.baseVersionIri);
    const base = baseVersion ? versionContent(baseVersion) : undefined;
    const applied = base ? applyChangeSet(base, proposalChanges(row)) : undefined;
    const resultVersion = proposal.resultVersion ? await findVersionByIri(db, proposal.resultVersion) : undefined;
    // A proposal's discussion is its own thread (annotations replying to the proposal).
    const discussion = await annotationsOf(context, c.get("session")?.user, proposal.iri);
    const session = c.get("session");
    const open = proposal.state === "open";
    const rule = proposal.rule;
    return c.render(
      <>
        <p class="muted">
          <a href={links.policyProposals(policy.id)}>Proposals for {policy.title}</a>
        </p>
        <h1>{proposal.title}</h1>
        <p>
          <span class={`tag proposal-state proposal-${proposal.state}`}>{stateLabel(proposal.state)}</span> A proposal to amend{" "}
          <a href={links.policy(policy.id, baseVersion?.number)}>
            {policy.title}
            {baseVersion ? ` version ${baseVersion.number}` : ""}
          </a>
          : {proposal.changes}.
        </p>
        {proposal.summary ? <p class="proposal-summary">{proposal.summary}</p> : null}
        <dl class="facts">
          <dt>Opened</dt>
          <dd>
            <DateTime value={proposal.openedAt} />
          </dd>
          <dt>{open ? "Closes" : "Closed"}</dt>
          <dd>
            <DateTime value={proposal.effectiveClosesAt} />
            {proposal.effectiveClosesAt !== proposal.closesAt ? <span class="muted"> (postponed to the {rule.minOpenHours}-hour minimum)</span> : null}
          </dd>
          <dt>Decision rule</dt>
          <dd>
            The <span class={`tag tag-${rule.level}`}>{authorityName(rule.level)}</span> rule (the strictest level the changes touch): {percent(rule.quorum)} of members must vote (
            {rule.quorumNeeded} now), {rule.threshold} needed, {rule.blocks ? "any block stops it" : "a block counts as a no"}, open at least {rule.minOpenHours}{" "}
            hours. <a href={links.decisionRules(community.handle)}>All rules</a>
          </dd>
        </dl>

        <section aria-labelledby="outcome">
          <SectionTitle id="outcome">{open ? "Tally so far" : "Outcome"}</SectionTitle>
          <p class={open ? "" : `outcome outcome-${proposal.state}`}>
            {open ? (
              <>Provisional: {proposal.tally.reason}.</>
            ) : (
              <>
                <strong>{stateLabel(proposal.state)}</strong>: {proposal.tally.reason}.
              </>
            )}
          </p>
          {!open && proposal.state === "adopted" ? (
            resultVersion ? (
              <p>
                Adopted as <a href={links.policy(policy.id, resultVersion.number)}>version {resultVersion.number}</a> of {policy.title}.
              </p>
            ) : proposal.tally.notApplied ? (
              <p>The changes no longer applied to the draft: {proposal.tally.notApplied.join("; ")}.</p>
            ) : (
              <p>
                The changes are in the <a href={links.policyDraft(policy.id)}>draft</a>; the stewards publish them as the next version.
              </p>
            )
          ) : null}
          <TallyTable counts={proposal.tally.counts} voters={proposal.tally.voters} members={proposal.tally.members} />
        </section>

        {open ? (
          <section aria-labelledby="vote">
            <SectionTitle id="vote">Your vote</SectionTitle>
            {session ? (
              <>
                <p>
                  {proposal.myVote ? (
                    <>
                      Your vote: <strong class="my-vote">{proposal.myVote}</strong>. You can change it until it closes.
                    </>
                  ) : (
                    <>You have not voted. You can change your vote until it closes.</>
                  )}
                </p>
                <ChoiceButtons action={`/proposals/${proposal.id}/vote`} choices={VOTE_CHOICES} current={proposal.myVote} label="Vote on this proposal" />
              </>
            ) : (
              <p>
                <SignInLink /> to vote.
              </p>
            )}
          </section>
        ) : null}

        <section aria-labelledby="changes">
          <SectionTitle id="changes">Changes</SectionTitle>
          {base && applied ? <PolicyDiffView from={base} to={applied.content} class="proposal-diff" /> : <p class="muted">The base version is no longer held here.</p>}
        </section>

        <section aria-labelledby="discussion">
          <SectionTitle id="discussion" count={discussion.length}>
            Discussion
          </SectionTitle>
          {discussion.length === 0 ? (
            <p class="muted">No comments yet.</p>
          ) : (
            <ol class="discussion">
              {discussion.map((note) => (
                <li class="card">
                  <p class="muted">
                    <span class="tag">{note.motivation}</span> {/^https?:\/\//.test(note.authorIri) ? <a href={note.authorIri}>{authorName(note.authorIri)}</a> : authorName(note.authorIri)} ·{" "}
                    <DateTime value={note.published.toISOString()} />
                  </p>
                  <p class="remote-content">{note.text}</p>
                </li>
              ))}
            </ol>
          )}
          {session ? (
            <>
              <FormError message={comment.message} />
              <PostForm action={`/proposals/${proposal.id}/comment`} label="Add to the discussion">
                <Select
                  name="motivation"
                  label="Kind"
                  options={DISCUSSION_MOTIVATIONS}
                  value={comment.values.motivation ?? "comment"}
                  error={comment.errors.motivation}
                />
                <TextArea name="text" label="Your comment" required value={comment.values.text} error={comment.errors.text} rows={4} />
                <button type="submit">Post comment</button>
              </PostForm>
            </>
          ) : (
            <p>
              <SignInLink /> to take part.
            </p>
          )}
        </section>
      </>,
      { title: proposal.title, community: pageCommunity(community) },
    );
  };

  pages.get("/proposals/:id", async (c) => await proposalPage(c, { values: {}, errors: {} }));
  // A proposal's IRI (what followers and Mastodon link to) shows its page to a browser.
  pages.get("/actors/:handle/policies/:slug/proposals/:id{[0-9]+}", async (c, next) => {
    const { db } = c.get("deps");
    const community = await findCommunity(db, c.req.param("handle"));
    const policy = community ? await findLocalPolicy(db, community, c.req.param("slug")) : undefined;
    const proposal = await findProposal(db, Number(c.req.param("id")));
    if (!policy || !proposal || proposal.policyId !== policy.id) return next();
    return c.redirect(links.proposal(proposal.id), 302);
  });

  pages.post("/proposals/:id/vote", async (c) => {
    const id = c.req.param("id");
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const { value } = await formFields(c);
    const result = await submitForm(VoteInput, { value }, async (data) => await castVote(c.get("deps").context, c.get("session")?.user, proposalId(id), data.value));
    if (!result.ok) return redirectWithNotice(c, links.proposal(proposalId(id)), `Your vote was not counted: ${result.problem.detail || result.problem.title}`, "error");
    return redirectWithNotice(c, links.proposal(result.data.id), `Your vote (${value}) is counted. You can change it until the proposal closes.`);
  });

  pages.post("/proposals/:id/comment", async (c) => {
    const id = c.req.param("id");
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const values = await formFields(c);
    const errors: Record<string, string> = {};
    if (!values.text?.trim()) errors.text = "must not be empty";
    if (!DISCUSSION_MOTIVATIONS.includes(values.motivation ?? "")) errors.motivation = `choose one of ${DISCUSSION_MOTIVATIONS.join(", ")}`;
    if (Object.keys(errors).length > 0) {
      c.status(400);
      return await proposalPage(c, { values, errors, message: "The comment was not posted." });
    }
    const proposal = await proposalDetails(c.get("deps").context, proposalId(id));
    // Comments are annotations replying to the proposal (the social area's use case).
    const input = { target: proposal.iri, motivation: values.motivation, text: values.text };
    const result = await submitForm(NewAnnotation, input, async (data) => await annotate(c.get("deps").context, c.get("session")?.user, data));
    if (!result.ok) {
      c.status(result.status as 400);
      return await proposalPage(c, { values, errors: { text: result.fieldErrors.text ?? result.problem.detail }, message: "The comment was not posted." });
    }
    return redirectWithNotice(c, `${links.proposal(proposal.id)}#discussion`, "Comment posted.");
  });

  const rulesPage = async (c: Context<WebEnv>, values?: Record<string, string>, errors: Record<string, string> = {}, message?: string) => {
    const handle = c.req.param("handle") ?? "";
    const { db, context } = c.get("deps");
    const community = await communityOrThrow(db, handle);
    const settings = await decisionRules(context, community.handle);
    const steward = await isSteward(db, community, c.get("session")?.user);
    const value = (name: string, fallback: string) => values?.[name] ?? fallback;
    return c.render(
      <>
        <h1>How {community.name} decides</h1>
        <p>
          A <Term name="proposal">proposal</Term> is decided by the rule of the strictest <Term name="authority-level">authority level</Term> among the clauses
          it touches. The <Term name="quorum">quorum</Term> is the percentage of members who must vote (abstentions and blocks count); the{" "}
          <Term name="threshold">threshold</Term> applies to yes against no.
        </p>
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Decision rules per authority level</caption>
            <thead>
              <tr>
                <th scope="col">Level</th>
                <th scope="col">
                  <Term name="quorum" />
                </th>
                <th scope="col">
                  <Term name="threshold" />
                </th>
                <th scope="col">
                  <Term name="block">Blocks</Term>
                </th>
                <th scope="col">Open at least</th>
              </tr>
            </thead>
            <tbody>
              {AUTHORITY_LEVELS.map((level) => {
                const rule = settings.effective[level]!;
                return (
                  <tr>
                    <th scope="row">
                      <AuthorityTag level={level} />
                    </th>
                    <td>{percent(rule.quorum)}</td>
                    <td>{rule.threshold}</td>
                    <td>{rule.blocks ? "any block stops it" : "count as no"}</td>
                    <td>{rule.minOpenHours} h</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <p>
          Adopted proposals {settings.adoptMode === "publish" ? "are published as a new version at once" : "change the draft; stewards publish it"}.{" "}
          {settings.partners.length > 0 ? `Members of ${settings.partners.join(", ")} may vote too.` : "No partner instances."}
        </p>
        {steward ? (
          <>
            <h2 id="change-rules">Change the rules</h2>
            <NoticeHere id="change-rules" />
            <FormError message={message} />
            <PostForm action={links.decisionRules(community.handle)} label="Decision rules" anchor="change-rules">
              {AUTHORITY_LEVELS.map((level) => {
                const rule = settings.effective[level]!;
                const name = AUTHORITY_LABELS[level];
                return (
                  <fieldset class="builder">
                    <legend>
                      <AuthorityTag level={level} /> clauses
                    </legend>
                    <Field
                      id={`${level}-quorum`}
                      name={`${level}.quorum`}
                      label={`Quorum for ${name} (% of members)`}
                      hint="From 0 to 100: the percentage of members who must vote. 50 is half."
                      type="number"
                      step="any"
                      min={0}
                      max={100}
                      value={value(`${level}.quorum`, percentNumber(rule.quorum))}
                      error={errors[`rules.${level}.quorum`]}
                    />
                    <Select
                      id={`${level}-threshold`}
                      name={`${level}.threshold`}
                      label={`Threshold for ${name}`}
                      options={[...THRESHOLDS]}
                      value={value(`${level}.threshold`, rule.threshold)}
                      error={errors[`rules.${level}.threshold`]}
                    />
                    <Select
                      id={`${level}-blocks`}
                      name={`${level}.blocks`}
                      label={`Blocks for ${name}`}
                      options={[
                        { value: "true", label: "Any block stops the proposal (consensus)" },
                        { value: "false", label: "A block counts as a no" },
                      ]}
                      value={value(`${level}.blocks`, String(rule.blocks))}
                      error={errors[`rules.${level}.blocks`]}
                    />
                    <Field
                      id={`${level}-minOpenHours`}
                      name={`${level}.minOpenHours`}
                      label={`Minimum open time for ${name} (hours)`}
                      type="number"
                      step="any"
                      min={0}
                      value={value(`${level}.minOpenHours`, String(rule.minOpenHours))}
                      error={errors[`rules.${level}.minOpenHours`]}
                    />
                  </fieldset>
                );
              })}
              <Select
                name="adoptMode"
                label="When a proposal is adopted"
                options={[
                  { value: "draft", label: "Change the draft (stewards publish it)" },
                  { value: "publish", label: "Publish a new version at once" },
                ]}
                value={value("adoptMode", settings.adoptMode)}
                error={errors.adoptMode}
              />
              <TextArea
                name="partners"
                label="Partner instances"
                hint="Host names, one a line, of instances whose members may vote on this community's proposals."
                value={value("partners", settings.partners.join("\n"))}
                error={Object.entries(errors).find(([key]) => key.startsWith("partners"))?.[1]}
                rows={3}
              />
              <button type="submit">Save the decision rules</button>
            </PostForm>
          </>
        ) : (
          <p class="muted">Stewards of {community.name} set these rules.</p>
        )}
      </>,
      { title: `Decision rules of ${community.name}`, community: pageCommunity(community) },
    );
  };

  pages.get("/actors/:handle/decision-rules", async (c) => await rulesPage(c));

  pages.post("/actors/:handle/decision-rules", async (c) => {
    const handle = c.req.param("handle");
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const values = await formFields(c);
    const number = (text: string | undefined) => (text === undefined || text.trim() === "" ? Number.NaN : Number(text));
    const rules = Object.fromEntries(
      AUTHORITY_LEVELS.map((level) => [
        level,
        {
          // The form takes a percentage; the use case (like the API) a share from 0 to 1.
          quorum: shareFromPercent(values[`${level}.quorum`]),
          threshold: values[`${level}.threshold`],
          blocks: values[`${level}.blocks`] === "true",
          minOpenHours: number(values[`${level}.minOpenHours`]),
        },
      ]),
    );
    const partners = (values.partners ?? "")
      .split(/[\s,]+/)
      .map((host) => host.trim())
      .filter(Boolean);
    const input = { rules, adoptMode: values.adoptMode, partners };
    const result = await submitForm(DecisionRulesInput, input, async (data) => await setDecisionRules(c.get("deps").context, c.get("session")?.user, handle, data));
    if (!result.ok) {
      c.status(result.status as 400);
      return await rulesPage(c, values, inPercent(result.fieldErrors), result.problem.status === 400 ? "The rules were not saved: see the fields marked below." : result.problem.detail);
    }
    return redirectWithNotice(c, links.decisionRules(handle), "Decision rules saved.", "success", "change-rules");
  });

  return pages;
}

/** The schema speaks of quorums as shares from 0 to 1; the form asks for a percentage, so its messages do too. */
function inPercent(fieldErrors: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fieldErrors).map(([path, message]) => [path, path.endsWith(".quorum") ? "Enter a percentage from 0 to 100 (50 is half of the members)." : message]),
  );
}

/** A proposal id from the path; anything else is no proposal (404). */
function proposalId(id: string | undefined): number {
  const n = Number(id);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

function authorName(iri: string): string {
  try {
    const url = new URL(iri);
    return `@${url.pathname.split("/").filter(Boolean).pop()}@${url.host}`;
  } catch {
    return iri;
  }
}

export async function policyFor(c: Context<WebEnv>): Promise<Policy> {
  const id = Number(c.req.param("id"));
  return await getPolicyById(c.get("deps").db, Number.isSafeInteger(id) ? id : 0);
}

/** The community of one of this instance's policies; undefined for a policy mirrored from elsewhere. */
export async function localCommunityOf(c: Context<WebEnv>, policy: Policy): Promise<Community | undefined> {
  return policy.communityId === null ? undefined : await findCommunityById(c.get("deps").db, policy.communityId);
}

export function remotePolicy(c: Context<WebEnv>, policy: Policy) {
  return c.render(
    <>
      <h1>Proposals for {policy.title}</h1>
      <p>
        This policy belongs to another instance: its community votes on proposals there. You can <a href={links.policyFork(policy.id)}>fork it</a> and offer your changes.
      </p>
      <p>
        <a href={policy.iri}>The policy on its home instance</a>
      </p>
    </>,
    { title: `Proposals for ${policy.title}` },
  );
}
