/**
 * The words Fedalign uses, in plain language: the glossary page (/glossary)
 * lists them, and <Term name="quorum"> marks a word where a page uses it, as
 * a link to its entry whose tooltip is the one-line definition. One home for
 * each definition, so the page and the hints never disagree.
 */
import type { Child } from "hono/jsx";
import { links } from "./links.ts";

export interface GlossaryEntry {
  /** The word as a heading shows it. */
  term: string;
  /** One sentence: the tooltip of every hint. */
  short: string;
  /** The entry on the glossary page (may repeat the short one). */
  long: string;
}

/** Grouped as the glossary page shows them; the key is the entry's anchor on /glossary. */
export const GLOSSARY_GROUPS = [
  {
    title: "Places and people",
    entries: {
      instance: {
        term: "Instance",
        short: "A server running Fedalign, with its own web address.",
        long: "A server running Fedalign, with its own web address. People have accounts on one instance; instances exchange policies, annotations and votes with each other over ActivityPub, the protocol Mastodon uses.",
      },
      community: {
        term: "Community",
        short: "A group on an instance that owns policies and decides how they change.",
        long: "A group on an instance (a nurses' union, a school, a language community) that owns alignment policies, decides how they change and collects its members' preference data. Others follow it by its handle, such as @nurses@care.example.",
      },
      steward: {
        term: "Steward",
        short: "A member who runs a community: edits and publishes its policies, sets its rules, adds members.",
        long: "A member who runs a community: edits the draft and publishes versions, sets the decision rules, adds members, accepts or rejects offers and hides annotations that break the rules. The instance's admins can do the same. Other members propose, vote and annotate.",
      },
      member: {
        term: "Member",
        short: "Someone who belongs to a community: they propose changes, vote and annotate.",
        long: "Someone who belongs to a community. Members propose changes, vote on proposals, annotate clauses and answer preference tasks. A member is either a steward or a plain member.",
      },
      follow: {
        term: "Follow",
        short: "Subscribing to a community or policy, here or on another instance, to receive its new versions.",
        long: "Subscribing to a community or a single policy, on this instance or another one, so its new versions arrive in your feed. The other side accepts the follow; until then it is pending.",
      },
    },
  },
  {
    title: "Policies",
    entries: {
      policy: {
        term: "Policy",
        short: "A community's written rules for how a language model should behave, made of clauses.",
        long: "A community's written rules for how a language model should behave (a constitution, in the style of the OpenAI Model Spec), made of clauses. It changes by publishing new versions.",
      },
      clause: {
        term: "Clause",
        short: "One rule of a policy: its text, why, how strong it is, where it applies and examples.",
        long: "One rule of a policy: its text, its rationale (why), its authority level (how strong it is), its context of use (where it applies) and examples of good and bad answers. A clause keeps its id across versions, so annotations and forks can follow it.",
      },
      "authority-level": {
        term: "Authority level",
        short: "How strong a clause is, from Root (nobody can override it) to Guideline (a default anyone may change).",
        long: "How strong a clause is, with the Model Spec's five levels, strongest first. Root: nobody can override it. System: set by whoever runs the model, in its system message. Developer: the app's builder may change it. User: the person using the model may change it. Guideline: a default anyone may change. Changes to stronger levels need stricter decision rules.",
      },
      "context-of-use": {
        term: "Context of use",
        short: "Where a clause applies: domains, audiences, languages and deployments; empty means everywhere.",
        long: "Where a clause applies: its domains (health, education...), audiences (children, clinicians...), locales (languages such as en or sw) and deployments (chat, API...). A facet left empty means any. Model operators pick a context when they pull a bundle.",
      },
      draft: {
        term: "Draft",
        short: "The working copy of a policy that stewards edit before they publish it as a version.",
        long: "The working copy of a policy that stewards edit. Nobody else sees a change until it is published as a new version.",
      },
      version: {
        term: "Version",
        short: "A numbered, signed snapshot of a policy that never changes once published.",
        long: "A numbered, signed snapshot of a policy, with a changelog. It never changes once published: a change makes the next version.",
      },
      annotation: {
        term: "Annotation",
        short: "A comment, question, endorsement, objection or suggested edit on a clause.",
        long: "A comment, question, endorsement, objection, suggested edit or context note on a clause of a version, optionally quoting the words it is about. Anyone in the fediverse can annotate, a Mastodon reply included; an annotation follows its clause into later versions and says when the quoted words changed.",
      },
    },
  },
  {
    title: "Deciding",
    entries: {
      proposal: {
        term: "Proposal",
        short: "A set of changes to a policy that the community's members vote on.",
        long: "A set of changes to a policy (edit, add, remove or reorder clauses) that the community's members discuss and vote on. When its time is up, the decision rule says whether it is adopted.",
      },
      "decision-rule": {
        term: "Decision rule",
        short: "How a community decides a proposal: its quorum, threshold, blocks and minimum open time.",
        long: "How a community decides a proposal: its quorum, its threshold, whether a block stops it, and how long it stays open at least. A community sets one rule per authority level; a proposal is decided by the rule of the strongest level it touches.",
      },
      quorum: {
        term: "Quorum",
        short: "The percentage of members who must vote for a decision to count (abstentions count).",
        long: "The percentage of a community's members who must vote for a decision to count; abstentions and blocks count as votes. With 20 members and a 30 % quorum, at least 6 must vote, or the proposal is rejected.",
      },
      threshold: {
        term: "Threshold",
        short: "How many of the yes and no votes must be yes: a majority, two thirds, or all (consensus).",
        long: "How many of the yes and no votes must be yes for a proposal to pass: more than half (majority), two thirds, or every one (unanimity). Abstentions are left out.",
      },
      block: {
        term: "Block",
        short: "A vote that stops a proposal on its own, where the rule asks for consensus.",
        long: "A vote that says “this must not pass”. Where the decision rule asks for consensus, one block stops the proposal; elsewhere a block counts as a no.",
      },
    },
  },
  {
    title: "Across communities",
    entries: {
      fork: {
        term: "Fork",
        short: "Your community's own copy of another community's policy, which remembers where it came from.",
        long: "Your community's own copy of another community's policy, to change as you need. It remembers where it came from (its upstream), so you can take in the upstream's later changes and offer yours back.",
      },
      upstream: {
        term: "Upstream",
        short: "The policy a fork was copied from.",
        long: "The policy a fork was copied from. The fork's community follows it, sees its new versions and can merge them in.",
      },
      offer: {
        term: "Offer",
        short: "A change a fork sends back to its upstream, for that community to accept or reject.",
        long: "A change a fork's community sends back to its upstream. The upstream's stewards accept it (it becomes one of their proposals) or reject it, and the offering community hears which.",
      },
      lineage: {
        term: "Lineage",
        short: "Where a version came from: the version before it, the policy it was forked from, what was merged in.",
        long: "Where a version came from: the version before it, the upstream version it was forked from, and the upstream versions merged into it. It shows how a norm travelled between communities.",
      },
    },
  },
  {
    title: "Checking",
    entries: {
      iri: {
        term: "IRI",
        short: "The permanent web address that names something in the fediverse, such as a policy version.",
        long: "The permanent web address that names something in the fediverse: a community, a policy, a version, a clause. It looks like a web link (and opens the thing in a browser); other servers use it to fetch and refer to it.",
      },
      "content-hash": {
        term: "Content hash",
        short: "A fingerprint of a version's text: change one letter and it changes.",
        long: "A fingerprint (SHA-256) of a version's rules, computed the same way everywhere: change one letter and the hash changes. Bundles list it, so anyone can check they have exactly what the community published.",
      },
      signature: {
        term: "Signature",
        short: "The community's digital signature on each version, which proves who published it and that it is unchanged.",
        long: "Each version carries its community's digital signature (an integrity proof). Anyone with the community's public key can check, even offline, that the community published it and that nothing changed since.",
      },
      bundle: {
        term: "Bundle",
        short: "A signed download of one or more policies (and preference data) for model operators.",
        long: "A signed download for model operators: the policies for a context of use, composed into a system prompt and a list of principles, with the preference data their consent terms allow, and a manifest of hashes to verify offline.",
      },
      "preference-data": {
        term: "Preference data",
        short: "Members' choices between model answers, with their reasons, used to train models.",
        long: "Members' choices between two model answers (or their ratings), with their reasons and the consent terms they chose: whether it may train a model, be shared with other instances, or be broken down by group.",
      },
    },
  },
] as const satisfies readonly { title: string; entries: Record<string, GlossaryEntry> }[];

type Entries<G> = G extends { entries: infer E } ? keyof E : never;
export type TermName = Entries<(typeof GLOSSARY_GROUPS)[number]>;

export const GLOSSARY: Record<TermName, GlossaryEntry> = Object.assign({}, ...GLOSSARY_GROUPS.map((group) => group.entries));

/**
 * A word explained where it appears: a link to its glossary entry, with the
 * one-line definition as its tooltip. Not for use inside another link or a
 * <summary> (a link there would swallow the click).
 */
export function Term(props: { name: TermName; children?: Child }) {
  const entry = GLOSSARY[props.name];
  return (
    <a class="term" href={links.glossary(props.name)} title={entry.short}>
      {props.children ?? entry.term}
    </a>
  );
}
