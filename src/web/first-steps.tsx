/**
 * The admin's first-steps checklist (src/app/onboarding.ts reads which are
 * done): shown on the home and admin pages until every step is done, each
 * step a link to where it is taken.
 */
import type { Child } from "hono/jsx";
import { FIRST_STEPS, allFirstStepsDone, type FirstStepKey, type FirstSteps } from "../app/onboarding.ts";
import { Term } from "./glossary.tsx";
import { links } from "./links.ts";

function stepHref(key: FirstStepKey, steps: FirstSteps): string {
  const newPolicy = steps.community ? links.newPolicy(steps.community) : links.newCommunity();
  switch (key) {
    case "community":
      return links.newCommunity();
    case "policy":
      return newPolicy;
    case "publish":
      return steps.policyId === undefined ? newPolicy : links.policyDraft(steps.policyId);
    case "invite":
      return `${links.admin()}#invites`;
    case "follow":
      return links.follow();
  }
}

const STEP_TEXT: Record<FirstStepKey, { title: string; why: () => Child }> = {
  community: {
    title: "Create a community",
    why: () => (
      <>
        A <Term name="community">community</Term> owns policies and decides how they change; you become its <Term name="steward">steward</Term>.
      </>
    ),
  },
  policy: {
    title: "Import or write a policy",
    why: () => (
      <>
        Import the Model Spec or a constitution you have, or start an empty <Term name="policy">policy</Term> and add clauses.
      </>
    ),
  },
  publish: {
    title: "Publish its first version",
    why: () => (
      <>
        Publishing signs a numbered <Term name="version">version</Term> that others can follow, annotate and fork.
      </>
    ),
  },
  invite: {
    title: "Invite members",
    why: () => (
      <>
        Create an invite code (or open sign-up), then add people to your community as <Term name="member">members</Term>.
      </>
    ),
  },
  follow: {
    title: "Follow a community on another instance",
    why: () => (
      <>
        <Term name="follow">Following</Term> brings its new versions into your feed; you can then fork them.
      </>
    ),
  },
};

function Mark(props: { done: boolean }) {
  return (
    <svg class="step-mark" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
      <circle cx="10" cy="10" r="8.5" fill={props.done ? "#1d6b2f" : "#fff"} stroke={props.done ? "#1d6b2f" : "#6b7280"} stroke-width="1.5" />
      {props.done ? <path d="M5.5 10.5l3 3 6-6.5" fill="none" stroke="#fff" stroke-width="2" /> : null}
    </svg>
  );
}

/** The checklist, or nothing once every step is done (or for anyone who is not an admin: `steps` undefined). */
export function FirstStepsPanel(props: { steps: FirstSteps | undefined }) {
  const { steps } = props;
  if (!steps || allFirstStepsDone(steps)) return null;
  const doneCount = FIRST_STEPS.filter((key) => steps.done[key]).length;
  return (
    <section class="panel first-steps" aria-labelledby="first-steps">
      <h2 id="first-steps">First steps</h2>
      <p>
        {doneCount} of {FIRST_STEPS.length} done. This list goes away once all are done.
      </p>
      <ol>
        {FIRST_STEPS.map((key) => {
          const done = steps.done[key];
          const text = STEP_TEXT[key];
          return (
            <li class={done ? "step-done" : "step-todo"} data-step={key}>
              <Mark done={done} />
              <span class="visually-hidden">{done ? "Done: " : "To do: "}</span>
              {done ? <span class="step-title">{text.title}</span> : <a href={stepHref(key, steps)}>{text.title}</a>}
              {key === "follow" && !done && steps.followPending ? <span class="muted"> (sent: waiting for the other instance to accept)</span> : null}
              <br />
              <span class="muted">{text.why()}</span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
