/**
 * Preference tasks: a community's tasks (stewards create them), the
 * side-by-side comparison a member answers with a rationale and consent
 * terms, the results per group as SVG charts, and a member's own records
 * with their consent, which they can narrow. Pages call the same use cases
 * as the JSON API (src/app/preferences.ts, src/app/preference-tasks.ts),
 * with the same zod schemas and rules.
 */
import { Hono, type Context } from "hono";
import { isMember, isSteward } from "../../app/permissions.ts";
import { changeRecordConsent, type MyRecord, myPreferences } from "../../app/preferences.ts";
import {
  AnswerInput,
  NewTasksInput,
  TaskListQuery,
  answerPreferenceTask,
  createPreferenceTasks,
  listCommunityTasks,
  taskResults,
  taskWithAnswer,
  type AnswerView,
  type CreatedTasks,
  type TaskList,
  type TaskView,
} from "../../app/preference-tasks.ts";
import { findCommunity, type Community } from "../../communities.ts";
import { NotFoundError } from "../../errors.ts";
import { headVersion, listCommunityPolicies } from "../../policies/policies.ts";
import type { ComparisonSummary } from "../../preferences/aggregate.ts";
import type { ResultsAudience } from "../../preferences/tasks.ts";
import { consentSchema, type Consent } from "../../preferences/record.ts";
import { BarChart, percent } from "../charts.tsx";
import { DateTime, Field, FormError, Pager, PostForm, Select, SignInLink, TextArea } from "../components.tsx";
import type { PageCommunity, WebEnv } from "../context.ts";
import { formFields, formValues, optional, redirectWithNotice, signInPath, submitForm } from "../forms.ts";
import { links } from "../links.ts";

interface Message {
  role: string;
  content: string;
}

interface Ratings {
  scale: { min: number; max: number };
  values: number[];
}

// ---------------------------------------------------------------------------
// Shared bits
// ---------------------------------------------------------------------------

const RATING_SCALE = { min: 1, max: 5 };

/** Consent terms in the order and words members see them. */
const CONSENT_TEXT: { term: keyof Consent; label: string; hint: string }[] = [
  {
    term: "breakdown",
    label: "Count me in my groups' results",
    hint: "Your answer is shown in the results of the groups you name below, and only for groups with enough raters that no one can be singled out. Without this, you count in the overall numbers only.",
  },
  {
    term: "train",
    label: "Allow training models on my answer",
    hint: "Your answer may be exported as training data (without your name, rater id or groups).",
  },
  {
    term: "federate",
    label: "Share my answer with instances that follow this policy",
    hint: "Your answer (under a pseudonym, never your username) is copied to other instances that follow the policy, and counts in the results that people outside the community see.",
  },
];

const letter = (i: number) => String.fromCharCode(65 + i);
const responseName = (i: number) => `Response ${letter(i)}`;

function consentWords(consent: Consent): string {
  const allowed = CONSENT_TEXT.filter(({ term }) => consent[term]).map(({ term }) => ({ breakdown: "group results", train: "training", federate: "sharing with other instances" })[term]);
  return allowed.length ? allowed.join(", ") : "nothing beyond the overall results";
}

/** What a member answered: their choice or ratings, their reason and the groups they gave. */
function AnswerSummary(props: { answer: { choice: number | null; ratings: Ratings | null; rationale: string | null; groups: string[] } }) {
  const { answer } = props;
  return (
    <>
      <p>{describeAnswer(answer)}</p>
      {answer.rationale ? (
        <p>
          Your reason: <q>{answer.rationale}</q>
        </p>
      ) : null}
      {answer.groups.length ? <p>Your groups: {answer.groups.join(", ")}</p> : null}
    </>
  );
}

function describeAnswer(answer: { choice: number | null; ratings: Ratings | null }): string {
  if (answer.choice !== null) return `You preferred ${responseName(answer.choice)}.`;
  if (answer.ratings) {
    const { scale, values } = answer.ratings;
    return `You rated ${values.map((v, i) => `${responseName(i)} ${v}`).join(", ")} (on ${scale.min} to ${scale.max}).`;
  }
  return "";
}

async function communityOf(c: Context<WebEnv>, handle: string): Promise<{ community: Community; page: PageCommunity }> {
  const community = await findCommunity(c.get("deps").db, handle);
  if (!community) throw new NotFoundError(`There is no community "${handle}" on this instance.`);
  return { community, page: { name: community.name, handle: community.handle, href: links.community(community.handle) } };
}

async function roleIn(c: Context<WebEnv>, community: Community): Promise<"steward" | "member" | undefined> {
  const { db } = c.get("deps");
  const user = c.get("session")?.user;
  return await isSteward(db, community, user) ? "steward" : await isMember(db, community, user) ? "member" : undefined;
}

const viewerOf = (c: Context<WebEnv>) => c.get("session")?.user;

function parseId(value: string): number {
  const id = Number(value);
  if (!Number.isInteger(id) || id <= 0) throw new NotFoundError("There is no page at this address.");
  return id;
}

function Prompt(props: { prompt: Message[] }) {
  return (
    <div class="panel">
      {props.prompt.map((message) => (
        <div class="prompt-message">
          <span class={`tag tag-${message.role === "user" || message.role === "system" || message.role === "developer" ? message.role : "guideline"}`}>{message.role}</span>
          <p class="message-text">{message.content}</p>
        </div>
      ))}
    </div>
  );
}

function TaskMeta(props: { task: TaskView }) {
  const { task } = props;
  return (
    <p class="muted">
      {task.responses.length} responses
      {task.clauseIds.length ? (
        <>
          {" · clauses "}
          {task.clauseIds.map((id) => (
            <span class="tag">{id}</span>
          ))}
        </>
      ) : null}
      {task.policy !== null ? (
        <>
          {" · "}
          <a href={links.policy(task.policy)}>the policy</a>
        </>
      ) : null}
      {task.closed ? <span class="tag"> closed</span> : null}
    </p>
  );
}

// ---------------------------------------------------------------------------
// The community's tasks
// ---------------------------------------------------------------------------

interface NewTaskForm {
  values?: Record<string, string>;
  errors?: Record<string, string>;
  message?: string;
}

/** API issue paths of POST /tasks -> the form's field names. */
function newTaskErrors(fieldErrors: Record<string, string>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [path, message] of Object.entries(fieldErrors)) {
    let field: string | undefined;
    if (path === "version") field = "version";
    else if (path.startsWith("tasks.0.title")) field = "title";
    else if (path.startsWith("tasks.0.prompt")) field = "prompt";
    else if (path.startsWith("tasks.0.clauseIds")) field = "clauseIds";
    else {
      const response = /^tasks\.0\.responses\.(\d+)/.exec(path);
      if (response) field = `response${Number(response[1]) + 1}`;
      else if (path.startsWith("tasks.0.responses")) field = "response1";
    }
    if (field) errors[field] ??= message;
  }
  return errors;
}

async function versionOptions(c: Context<WebEnv>, community: Community) {
  const db = c.get("deps").db;
  const options = await Promise.all(
    (await listCommunityPolicies(db, community)).map(async (policy) => {
      const head = await headVersion(db, policy);
      return head ? [{ value: head.iri, label: `${policy.title}, version ${head.number}` }] : [];
    }),
  );
  return options.flat();
}

/** The list's query string: page and filter as the API takes them, so a page of the list has a stable address. */
function tasksHref(handle: string, filter: { page?: number; unanswered?: boolean }): string {
  const params = new URLSearchParams();
  if (filter.unanswered) params.set("unanswered", "true");
  if (filter.page && filter.page > 1) params.set("page", String(filter.page));
  const query = params.toString();
  return `${links.communityTasks(handle)}${query ? `?${query}` : ""}`;
}

/** Where a member goes next: their next open task they have not answered, or word that there is none. */
function NextTask(props: { next: number | null; left: number | null; communityName: string }) {
  if (props.next === null) return <p class="muted">You have answered every open task of {props.communityName}.</p>;
  return (
    <p>
      <a class="button" href={links.task(props.next)}>
        Next unanswered task
      </a>{" "}
      {props.left !== null ? (
        <span class="muted">
          {props.left} open task{props.left === 1 ? "" : "s"} you have not answered
        </span>
      ) : null}
    </p>
  );
}

function TaskFilter(props: { handle: string; unanswered: boolean; total: number }) {
  const here = (on: boolean) => (props.unanswered === on ? { "aria-current": "page" as const } : {});
  return (
    <nav class="task-filter" aria-label="Which tasks">
      <a href={tasksHref(props.handle, {})} {...here(false)}>
        All tasks
      </a>
      {" · "}
      <a href={tasksHref(props.handle, { unanswered: true })} {...here(true)}>
        Unanswered by me
      </a>
      <span class="muted">
        {" "}
        ({props.total} task{props.total === 1 ? "" : "s"})
      </span>
    </nav>
  );
}

function TaskItem(props: { task: TaskList["tasks"][number] }) {
  const { task } = props;
  return (
    <li class="card">
      <h2>
        <a href={links.task(task.id)}>{task.title || `Task ${task.id}`}</a>
      </h2>
      <TaskMeta task={task} />
      <p>
        {task.answered ? (
          <>
            <span class="tag tag-user">answered</span> <a href={links.task(task.id)}>See or change your answer</a>
          </>
        ) : task.closed ? null : (
          <a href={links.task(task.id)}>Compare and answer</a>
        )}
        {" · "}
        <a href={links.taskResults(task.id)}>Results</a>
      </p>
    </li>
  );
}

/** The list's page and filter from the query string; anything unreadable reads as the first page of all tasks. */
function listQuery(c: Context<WebEnv>, community: Community): TaskListQuery {
  const signedIn = !!c.get("session");
  const asked = TaskListQuery.safeParse({ community: community.handle, page: c.req.query("page"), unanswered: signedIn ? c.req.query("unanswered") : undefined });
  return asked.success ? asked.data : TaskListQuery.parse({ community: community.handle });
}

async function TasksPage(props: { c: Context<WebEnv>; community: Community; create?: NewTaskForm; fromExamples?: NewTaskForm }) {
  const { c, community } = props;
  const context = c.get("deps").context;
  const session = c.get("session");
  const list = await listCommunityTasks(context, session?.user, listQuery(c, community));
  const role = await roleIn(c, community);
  const versions = role === "steward" ? await versionOptions(c, community) : [];
  const values = props.create?.values ?? {};
  const errors = props.create?.errors ?? {};
  return (
    <div class="prefs">
      <h1>Preference tasks</h1>
      <p>
        Each task puts two or more responses to the same prompt side by side. Members say which they prefer and why, and choose what their answer may be used for.
        Results show every group's view, never only one majority number.
      </p>
      {role !== undefined && list.total + (list.unansweredCount ?? 0) > 0 ? <NextTask next={list.nextUnanswered} left={list.unansweredCount} communityName={community.name} /> : null}
      {session ? <TaskFilter handle={community.handle} unanswered={list.unanswered} total={list.total} /> : null}
      {list.total === 0 ? (
        <p class="muted">
          {list.unanswered ? "No open task is waiting for your answer." : `No tasks yet.${role === "steward" ? " Create the first one below." : ""}`}
        </p>
      ) : list.tasks.length === 0 ? (
        <p class="muted">
          There is no page {list.page}. <a href={tasksHref(community.handle, { unanswered: list.unanswered })}>Go to the first page</a>.
        </p>
      ) : (
        <ul class="task-list">
          {list.tasks.map((task) => (
            <TaskItem task={task} />
          ))}
        </ul>
      )}
      <Pager page={list.page} pages={list.pages} label="Pages of tasks" href={(page) => tasksHref(community.handle, { page, unanswered: list.unanswered })} />
      {!session ? (
        <p>
          <SignInLink /> to answer tasks.
        </p>
      ) : role === undefined ? (
        <p class="muted">Only members of {community.name} answer its tasks.</p>
      ) : null}
      {role === "steward" ? (
        <>
          <h2 id="new-task">New task</h2>
          <FormError message={props.create?.message} />
          <PostForm action={links.communityTasks(community.handle)} label="New task">
            <Field name="title" label="Title" value={values.title} hint="A few words members see in the list, e.g. the situation being compared." error={errors.title} />
            <TextArea name="system" label="System message (optional)" rows={2} value={values.system} hint="Context the model was given before the conversation." />
            <TextArea name="prompt" label="Prompt" rows={3} value={values.prompt} hint="What the user asked." error={errors.prompt} required />
            <TextArea name="response1" label="Response A" rows={5} value={values.response1} error={errors.response1} required />
            <TextArea name="response2" label="Response B" rows={5} value={values.response2} error={errors.response2} required />
            <Select
              name="version"
              label="Policy this task speaks to (optional)"
              options={[{ value: "", label: "None" }, ...versions]}
              value={values.version}
              hint="The latest published version of one of this community's policies."
              error={errors.version}
            />
            <Field
              name="clauseIds"
              label="Clauses (optional)"
              value={values.clauseIds}
              hint="Ids of the policy's clauses this comparison tests, separated by commas; results are then rolled up per clause."
              error={errors.clauseIds}
            />
            <button type="submit">Create task</button>
          </PostForm>
          {versions.length ? (
            <>
              <h2 id="from-examples">Tasks from a policy's examples</h2>
              <p>One task per example with two or more responses, with the responses in a fixed order that does not reveal which one the policy calls good.</p>
              <FormError message={props.fromExamples?.message} />
              <PostForm action={`${links.communityTasks(community.handle)}/from-examples`} label="Tasks from a policy's examples">
                <Select name="fromVersion" label="Policy version" options={versions} value={props.fromExamples?.values?.fromVersion} error={props.fromExamples?.errors?.fromVersion} />
                <button type="submit" class="secondary">
                  Create tasks from its examples
                </button>
              </PostForm>
            </>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

/** "3 tasks created, 158 already existed." */
function createdWords(result: CreatedTasks): string {
  const created = `${result.created.length} task${result.created.length === 1 ? "" : "s"} created from the examples`;
  return result.existing.length ? `${created}, ${result.existing.length} already existed.` : `${created}.`;
}

// ---------------------------------------------------------------------------
// One task: the comparison and the answer form
// ---------------------------------------------------------------------------

interface AnswerForm {
  /** "0", "1", ... for a choice, "rate" for ratings. */
  pick?: string;
  ratings?: string[];
  rationale?: string;
  groups?: string;
  consent?: Consent;
}

function answerFormFrom(answer: AnswerView | null | undefined): AnswerForm {
  if (!answer) return { consent: { train: false, federate: false, breakdown: false } };
  return {
    pick: answer.choice !== null ? String(answer.choice) : "rate",
    ratings: answer.ratings?.values.map(String),
    rationale: answer.rationale,
    groups: answer.groups.join(", "),
    consent: answer.consent,
  };
}

function TaskPage(props: { task: TaskView & { answer?: AnswerView | null; nextUnanswered?: number | null }; canAnswer: boolean; signedIn: boolean; communityName: string; form: AnswerForm; errors?: Record<string, string>; message?: string }) {
  const { task, form } = props;
  const errors = props.errors ?? {};
  const answer = task.answer ?? null;
  const ratingOptions = [{ value: "", label: "No rating" }, ...[1, 2, 3, 4, 5].map((v) => ({ value: String(v), label: String(v) }))];
  const responses = task.responses.map((response, i) => (
    <section class="card response" aria-labelledby={`response-${i}`}>
      <h3 id={`response-${i}`}>{responseName(i)}</h3>
      <p class="response-text">{response.content}</p>
      {props.canAnswer ? (
        <div class="pick">
          <div class="option">
            <input type="radio" name="pick" id={`pick-${i}`} value={String(i)} checked={form.pick === String(i)} aria-describedby={errors.pick ? "pick-error" : undefined} />
            <label for={`pick-${i}`}>I prefer {responseName(i)}</label>
          </div>
          <Select id={`rating-${i}`} name="rating" label={`Or rate ${responseName(i)} (1 poor, 5 excellent)`} options={ratingOptions} value={form.ratings?.[i] ?? ""} />
        </div>
      ) : null}
    </section>
  ));
  const body = (
    <>
      <h2 id="prompt">The prompt</h2>
      <Prompt prompt={task.prompt} />
      <h2 id="responses">The responses</h2>
      <p class="muted">Read both. The order is fixed and says nothing about which one anyone prefers.</p>
      <div class="columns compare">{responses}</div>
    </>
  );
  return (
    <div class="prefs">
      <h1>{task.title || `Task ${task.id}`}</h1>
      <TaskMeta task={task} />
      <p>
        <a href={links.taskResults(task.id)}>See the results</a>
        {task.community ? (
          <>
            {" · "}
            <a href={links.communityTasks(task.community)}>All tasks of {props.communityName}</a>
            {props.canAnswer && !answer && task.nextUnanswered ? (
              <>
                {" · "}
                <a href={links.task(task.nextUnanswered)}>Skip to the next unanswered task</a>
              </>
            ) : null}
          </>
        ) : null}
      </p>
      {answer ? (
        <section class="panel" aria-labelledby="your-answer">
          <h2 id="your-answer">Your answer</h2>
          <AnswerSummary answer={answer} />
          <p>
            You allowed: {consentWords(answer.consent)}. Saved <DateTime value={answer.updatedAt} />.
          </p>
          {props.canAnswer ? <NextTask next={task.nextUnanswered ?? null} left={null} communityName={props.communityName} /> : null}
          <p>
            <a href="/settings/preferences">Narrow the consent of your answers</a>
          </p>
        </section>
      ) : null}
      {props.canAnswer ? (
        <>
          <FormError message={props.message} />
          <PostForm action={links.task(task.id)} class="answer-form" label={answer ? "Change your answer" : "Your answer"}>
            {body}
            {errors.pick ? (
              <p class="field-error" id="pick-error">
                {errors.pick}
              </p>
            ) : null}
            <div class="option">
              <input type="radio" name="pick" id="pick-rate" value="rate" checked={form.pick === "rate"} aria-describedby="pick-rate-hint" />
              <label for="pick-rate">
                Rate each response instead of choosing
                <span class="hint" id="pick-rate-hint">
                  {" "}
                  Use the ratings under each response; equal ratings count as a tie.
                </span>
              </label>
            </div>
            <h2 id="why">Why, and what your answer may be used for</h2>
            <TextArea name="rationale" label="Why? (optional)" rows={3} value={form.rationale} hint="What made the difference for you. Shown to no one with your name." error={errors.rationale} />
            <Field
              name="groups"
              label="Groups you identify with (optional)"
              value={form.groups}
              hint="Separated by commas, e.g. night shift, patients. Your own words; used only if you allow group results below."
              error={errors.groups}
            />
            <fieldset aria-describedby="consent-hint">
              <legend>What your answer may be used for</legend>
              <p class="hint muted" id="consent-hint">
                Your answer always counts in the overall results the community's members see. Everything else is off unless you tick it. Later you can withdraw any of these on your
                preferences page; to allow more, answer again.
              </p>
              {CONSENT_TEXT.map(({ term, label, hint }) => (
                <div class="option">
                  <input type="checkbox" name="consent" id={`consent-${term}`} value={term} checked={form.consent?.[term] ?? false} aria-describedby={`consent-${term}-hint`} />
                  <label for={`consent-${term}`}>
                    {label}
                    <span class="hint" id={`consent-${term}-hint`}>
                      {" "}
                      {hint}
                    </span>
                  </label>
                </div>
              ))}
              {errors.consent ? <p class="field-error">{errors.consent}</p> : null}
            </fieldset>
            <button type="submit">{answer ? "Save my new answer" : "Send my answer"}</button>
          </PostForm>
        </>
      ) : (
        <>
          {body}
          <p class="notice notice-success">
            {task.closed
              ? "This task is closed: it takes no more answers."
              : props.signedIn
                ? `Only members of ${props.communityName} answer its tasks.`
                : "Sign in as a member of this community to answer."}
            {!props.signedIn && !task.closed ? (
              <>
                {" "}
                <SignInLink />
              </>
            ) : null}
          </p>
        </>
      )}
    </div>
  );
}

async function loadTask(c: Context<WebEnv>, id: number) {
  const task = await taskWithAnswer(c.get("deps").context, viewerOf(c), id);
  const { community, page } = await communityOf(c, task.community ?? "");
  const role = await roleIn(c, community);
  return { task, community, page, canAnswer: role !== undefined && !task.closed };
}

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

function verdictClass(verdict: string): string {
  return verdict === "groups differ" ? "notice notice-error" : "panel";
}

function ResultsPage(props: { task: TaskView; summary: ComparisonSummary; audience: ResultsAudience }) {
  const { task, summary, audience } = props;
  const series = task.responses.map((_, i) => ({ label: responseName(i) }));
  const bars = (stats: ComparisonSummary["overall"]) => stats.responses.map((r) => ({ value: r.share, low: r.interval?.low ?? null, high: r.interval?.high ?? null }));
  const rows = [
    { label: "All raters", note: `${summary.overall.n} ${summary.overall.n === 1 ? "rater" : "raters"}`, bars: bars(summary.overall) },
    ...summary.byGroup.map((group) => ({ label: group.group, note: `${group.n} raters`, bars: bars(group) })),
  ];
  const level = `${Math.round(summary.confidence * 100)}%`;
  const d = summary.disagreement;
  const rated = summary.overall.rated;
  return (
    <div class="prefs">
      <h1>Results: {task.title || `Task ${task.id}`}</h1>
      <TaskMeta task={task} />
      <p>
        <a href={links.task(task.id)}>The comparison</a>
        {task.community ? (
          <>
            {" · "}
            <a href={links.communityTasks(task.community)}>All tasks</a>
          </>
        ) : null}
      </p>
      {audience === "public" ? (
        <p class="panel">
          These results count only the answers whose raters allowed them to be shared beyond the community; the community's members see all answers.
        </p>
      ) : null}
      {summary.overall.n === 0 ? (
        <p class="panel">{audience === "public" ? "No answer that may be shown outside the community yet." : "No one has answered yet."}</p>
      ) : (
        <>
          <h2 id="shares">Which response people prefer</h2>
          <p>
            The share of raters preferring each response, overall and in each group large enough to show, with {level} confidence intervals (Wilson). A rater who
            rated rather than chose counts for the response they rated highest; a tie splits their vote.
          </p>
          <BarChart
            id="shares-chart"
            title={`Share preferring each response, overall and per group, with ${level} intervals`}
            description={`Horizontal bars, one per response, for all ${summary.overall.n} raters and for ${summary.byGroup.length} group${summary.byGroup.length === 1 ? "" : "s"}; a line across each bar marks its ${level} confidence interval, and the dashed line marks an even split.`}
            series={series}
            rows={rows}
            reference={task.responses.length === 2 ? 0.5 : undefined}
          />
          <h2 id="groups">Groups</h2>
          <ul>
            <li>
              Groups are shown only when at least {summary.minGroupSize} raters who allowed group results belong to them.
              {summary.suppressedGroups > 0 ? ` ${summary.suppressedGroups} smaller group${summary.suppressedGroups === 1 ? " is" : "s are"} not shown.` : ""}
            </li>
            {summary.counts.withoutBreakdownConsent > 0 ? (
              <li>
                {summary.counts.withoutBreakdownConsent} rater{summary.counts.withoutBreakdownConsent === 1 ? "" : "s"} did not allow group results and count only in
                the overall numbers.
              </li>
            ) : null}
          </ul>
          <h2 id="disagreement">Do the groups disagree?</h2>
          <div class={verdictClass(d.verdict)}>
            <p>
              <strong>{d.verdict.charAt(0).toUpperCase() + d.verdict.slice(1)}.</strong> {d.explanation}
            </p>
          </div>
          {d.range || d.chiSquare ? (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Disagreement statistics</caption>
                <tbody>
                  {d.range ? (
                    <tr>
                      <th scope="row">Spread of the share preferring {responseName(0)}</th>
                      <td>
                        {percent(d.range.value)} (from {percent(d.range.lowest.share)} in {d.range.lowest.group} to {percent(d.range.highest.share)} in {d.range.highest.group})
                      </td>
                    </tr>
                  ) : null}
                  {d.chiSquare ? (
                    <>
                      <tr>
                        <th scope="row">Chi-square test of homogeneity</th>
                        <td>
                          χ² = {d.chiSquare.statistic.toFixed(2)}, {d.chiSquare.df} degree{d.chiSquare.df === 1 ? "" : "s"} of freedom, p = {formatP(d.chiSquare.pValue)}
                          {d.smallExpectedCounts ? " (too few answers for this test to be reliable)" : ""}
                        </td>
                      </tr>
                      <tr>
                        <th scope="row">Effect size (Cramér's V, 0 same to 1 completely different)</th>
                        <td>{d.chiSquare.cramersV.toFixed(2)}</td>
                      </tr>
                    </>
                  ) : null}
                </tbody>
              </table>
            </div>
          ) : null}
          {rated > 0 ? (
            <>
              <h2 id="ratings">Mean ratings</h2>
              <p>
                {rated} of {summary.overall.n} raters rated the responses; their mean rating per response, scaled to 0 (lowest) to 1 (highest).
              </p>
              <BarChart
                id="ratings-chart"
                title="Mean rating of each response, scaled 0 to 1"
                description={`Horizontal bars, one per response, for the ${rated} raters who rated, and for each shown group where at least ${summary.minGroupSize} of its raters rated.`}
                series={series}
                rows={[
                  { label: "All raters", note: `${rated} rated`, bars: summary.overall.responses.map((r) => ({ value: r.meanRating })) },
                  // A group's mean rating is shown only when enough of its raters rated: it must not single anyone out.
                  ...summary.byGroup.filter((g) => g.rated >= summary.minGroupSize).map((g) => ({ label: g.group, note: `${g.rated} rated`, bars: g.responses.map((r) => ({ value: r.meanRating })) })),
                ]}
                format={(v) => v.toFixed(2)}
              />
            </>
          ) : null}
          <p class="muted">
            {summary.counts.raters} rater{summary.counts.raters === 1 ? "" : "s"}, one answer each (the latest).
          </p>
        </>
      )}
      <h2 id="prompt">What was compared</h2>
      <Prompt prompt={task.prompt} />
      <div class="columns">
        {task.responses.map((response, i) => (
          <section class="card" aria-labelledby={`results-response-${i}`}>
            <h3 id={`results-response-${i}`}>{responseName(i)}</h3>
            <p class="response-text">{response.content}</p>
          </section>
        ))}
      </div>
    </div>
  );
}

function formatP(p: number): string {
  return p < 0.001 ? "< 0.001" : p.toFixed(3);
}

// ---------------------------------------------------------------------------
// A member's own records
// ---------------------------------------------------------------------------

function MyPreferencesPage(props: { records: MyRecord[] }) {
  return (
    <div class="prefs">
      <h1>Your preference answers</h1>
      <p>
        Every answer you gave to a comparison task, with what you allowed it to be used for. You can withdraw any use here at any time; training exports and other
        instances follow the change. To allow more than before, answer the task again.
      </p>
      {props.records.length === 0 ? (
        <p class="muted">You have not answered any task yet.</p>
      ) : (
        props.records.map((record) => {
          const allowed = CONSENT_TEXT.filter(({ term }) => record.consent[term]);
          return (
            <section class="card" aria-labelledby={`record-${record.id}`}>
              <h2 id={`record-${record.id}`}>
                {record.task !== null ? <a href={links.task(record.task)}>{record.taskTitle || `Task ${record.task}`}</a> : `Record ${record.id}`}
              </h2>
              <p class="muted">
                In <a href={links.community(record.community)}>{record.community}</a> · saved <DateTime value={record.updatedAt} />
              </p>
              <AnswerSummary answer={record} />
              {allowed.length === 0 ? (
                <p>You allowed nothing beyond the overall results.</p>
              ) : (
                <PostForm action={`/settings/preferences/${record.id}/consent`} label={`Consent for record ${record.id}`}>
                  <fieldset>
                    <legend>Still allowed (untick to withdraw)</legend>
                    {allowed.map(({ term, label }) => (
                      <div class="option">
                        <input type="checkbox" name="consent" id={`consent-${record.id}-${term}`} value={term} checked />
                        <label for={`consent-${record.id}-${term}`}>{label}</label>
                      </div>
                    ))}
                    {CONSENT_TEXT.filter(({ term }) => !record.consent[term]).length ? (
                      <p class="hint muted">
                        Not allowed: {CONSENT_TEXT.filter(({ term }) => !record.consent[term]).map(({ label }) => label.toLowerCase()).join("; ")}.
                      </p>
                    ) : null}
                  </fieldset>
                  <button type="submit" class="secondary">
                    Save narrower consent
                  </button>
                </PostForm>
              )}
            </section>
          );
        })
      )}
    </div>
  );
}

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

export function preferencePages() {
  const pages = new Hono<WebEnv>();

  pages.get("/actors/:handle/tasks", async (c) => {
    const { community, page } = await communityOf(c, c.req.param("handle"));
    return c.render(await TasksPage({ c, community }), { title: "Preference tasks", community: page });
  });

  pages.post("/actors/:handle/tasks", async (c) => {
    const { community, page } = await communityOf(c, c.req.param("handle"));
    const form = await formFields(c);
    const prompt = [
      ...(optional(form.system) ? [{ role: "system", content: form.system!.trim() }] : []),
      ...(optional(form.prompt) ? [{ role: "user", content: form.prompt!.trim() }] : []),
    ];
    const clauseIds = (form.clauseIds ?? "")
      .split(",")
      .map((id) => id.trim())
      .filter(Boolean);
    const version = optional(form.version);
    const input = {
      community: community.handle,
      version,
      tasks: [{ title: form.title?.trim() ?? "", prompt, responses: [{ content: form.response1 ?? "" }, { content: form.response2 ?? "" }], clauseIds }],
    };
    const result = await submitForm(NewTasksInput, input, async (data) => await createPreferenceTasks(c.get("deps").context, viewerOf(c), data));
    if (!result.ok) {
      const errors = newTaskErrors(result.fieldErrors);
      c.status(result.status as 400);
      return c.render(
        await TasksPage({
          c,
          community,
          create: { values: form, errors, message: Object.keys(errors).length ? "The task was not created: see the fields marked below." : result.problem.detail },
        }),
        { title: "Preference tasks", community: page },
      );
    }
    const [created] = result.data.created;
    if (created) return redirectWithNotice(c, links.task(created.id), `Task "${created.title || created.id}" created.`);
    const held = result.data.existing[0]!;
    return redirectWithNotice(c, links.task(held.id), `This task already existed ("${held.title || held.id}"); nothing was added.`);
  });

  pages.post("/actors/:handle/tasks/from-examples", async (c) => {
    const { community, page } = await communityOf(c, c.req.param("handle"));
    const form = await formFields(c);
    const input = { community: community.handle, fromVersion: optional(form.fromVersion) };
    const result = await submitForm(NewTasksInput, input, async (data) => await createPreferenceTasks(c.get("deps").context, viewerOf(c), data));
    if (!result.ok) {
      c.status(result.status as 400);
      return c.render(await TasksPage({ c, community, fromExamples: { values: form, errors: result.fieldErrors, message: result.problem.detail } }), {
        title: "Preference tasks",
        community: page,
      });
    }
    return redirectWithNotice(c, links.communityTasks(community.handle), createdWords(result.data));
  });

  pages.get("/tasks/:id", async (c) => {
    const { task, page, canAnswer } = await loadTask(c, parseId(c.req.param("id")));
    return c.render(<TaskPage task={task} canAnswer={canAnswer} signedIn={!!c.get("session")} communityName={page.name} form={answerFormFrom(task.answer)} />, {
      title: task.title || `Task ${task.id}`,
      community: page,
    });
  });

  pages.post("/tasks/:id", async (c) => {
    const id = parseId(c.req.param("id"));
    const form = await formFields(c);
    const ratingValues = await formValues(c, "rating");
    const consentTerms = await formValues(c, "consent");
    const consent: Consent = { train: consentTerms.includes("train"), federate: consentTerms.includes("federate"), breakdown: consentTerms.includes("breakdown") };
    const groups = (form.groups ?? "")
      .split(",")
      .map((g) => g.trim())
      .filter(Boolean);
    const submitted: AnswerForm = { pick: form.pick, ratings: ratingValues, rationale: form.rationale ?? "", groups: form.groups ?? "", consent };
    const { task, page, canAnswer } = await loadTask(c, id);
    const again = (errors: Record<string, string>, message: string, status: number) => {
      c.status(status as 400);
      return c.render(
        <TaskPage task={task} canAnswer={canAnswer} signedIn={!!c.get("session")} communityName={page.name} form={submitted} errors={errors} message={message} />,
        { title: task.title || `Task ${task.id}`, community: page },
      );
    };
    let answer: { choice?: number; ratings?: Ratings };
    if (form.pick === "rate") {
      if (ratingValues.length !== task.responses.length || ratingValues.some((v) => v === "")) {
        return again({ pick: "Give every response a rating, or choose the one you prefer." }, "Your answer was not saved: see the marked fields.", 400);
      }
      answer = { ratings: { scale: RATING_SCALE, values: ratingValues.map(Number) } };
    } else if (form.pick !== undefined && /^\d+$/.test(form.pick)) {
      answer = { choice: Number(form.pick) };
    } else {
      return again({ pick: "Choose the response you prefer, or rate each one." }, "Your answer was not saved: see the marked fields.", 400);
    }
    const input = { ...answer, rationale: form.rationale ?? "", groups, consent };
    const result = await submitForm(AnswerInput, input, async (data) => await answerPreferenceTask(c.get("deps").context, viewerOf(c), id, data));
    if (!result.ok) {
      const errors: Record<string, string> = {};
      for (const [path, message] of Object.entries(result.fieldErrors)) {
        const field = path.startsWith("rationale") ? "rationale" : path.startsWith("groups") ? "groups" : path.startsWith("consent") ? "consent" : "pick";
        errors[field] ??= message;
      }
      return again(errors, Object.keys(errors).length ? "Your answer was not saved: see the marked fields." : result.problem.detail, result.status);
    }
    return redirectWithNotice(c, links.task(id), "Your answer was saved.");
  });

  pages.get("/tasks/:id/results", async (c) => {
    const id = parseId(c.req.param("id"));
    const results = await taskResults(c.get("deps").context, viewerOf(c), id);
    const { page } = await communityOf(c, results.task.community ?? "");
    return c.render(<ResultsPage task={results.task} summary={results.summary} audience={results.audience} />, { title: `Results: ${results.task.title || `Task ${id}`}`, community: page });
  });

  pages.get("/settings/preferences", async (c) => {
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const records = await myPreferences(c.get("deps").context, c.get("session")?.user);
    return c.render(<MyPreferencesPage records={records} />, { title: "Your preference answers" });
  });

  pages.post("/settings/preferences/:id/consent", async (c) => {
    const id = parseId(c.req.param("id"));
    const terms = await formValues(c, "consent");
    const input = { train: terms.includes("train"), federate: terms.includes("federate"), breakdown: terms.includes("breakdown") };
    const result = await submitForm(consentSchema, input, async (consent) => await changeRecordConsent(c.get("deps").context, viewerOf(c), id, consent));
    if (!result.ok) return redirectWithNotice(c, "/settings/preferences", result.problem.detail, "error");
    return redirectWithNotice(c, "/settings/preferences", `Consent saved: you now allow ${consentWords(result.data.consent)}.`);
  });

  return pages;
}
