/**
 * Proposals are visible to followers as `Article`s (readable in Mastodon):
 * `Create` when one opens, `Update` when it closes with its tally. Votes
 * stay local to the community.
 */
import { Article, Create, Update } from "@fedify/vocab";
import type { Community } from "../src/communities.ts";
import { describeChangeSet } from "../src/policies/changeset.ts";
import type { Policy } from "../src/policies/policies.ts";
import { PUBLIC_AUDIENCE } from "../src/policies/version-document.ts";
import { proposalChanges, type Proposal } from "../src/participation/proposals.ts";
import { escapeHtml } from "../src/text.ts";
import type { FedCtx } from "./context.ts";
import { newActivityIri } from "./outgoing.ts";
import { policyAudience } from "./policy-activities.ts";

export function proposalIri(policy: Policy, proposal: Pick<Proposal, "id">): string {
  return `${policy.iri}/proposals/${proposal.id}`;
}

function html(policy: Policy, proposal: Proposal): string {
  const tally = proposal.tally as { reason?: string } | null;
  return [
    `<p>Proposal to amend <a href="${escapeHtml(policy.iri)}">${escapeHtml(policy.title)}</a>: ${escapeHtml(describeChangeSet(proposalChanges(proposal)))}.</p>`,
    proposal.summary ? `<p>${escapeHtml(proposal.summary)}</p>` : "",
    proposal.state === "open"
      ? `<p>Voting closes ${escapeHtml(proposal.closesAt.toISOString())}.</p>`
      : `<p>${proposal.state === "adopted" ? "Adopted" : "Rejected"}: ${escapeHtml(tally?.reason ?? "")}</p>`,
  ].join("");
}

export function proposalDocument(policy: Policy, proposal: Proposal): Record<string, unknown> {
  return {
    "@context": "https://www.w3.org/ns/activitystreams",
    id: proposalIri(policy, proposal),
    type: "Article",
    attributedTo: policy.ownerIri,
    name: proposal.title,
    content: html(policy, proposal),
    published: proposal.openedAt.toISOString(),
    ...(proposal.closedAt ? { updated: proposal.closedAt.toISOString() } : {}),
    context: policy.iri,
    to: [PUBLIC_AUDIENCE],
  };
}

export async function sendProposal(ctx: FedCtx, policy: Policy, community: Community, proposal: Proposal, kind: "create" | "update"): Promise<void> {
  const recipients = policyAudience(ctx, policy);
  if (recipients.length === 0) return;
  const actor = ctx.getActorUri(community.handle);
  const Activity = kind === "create" ? Create : Update;
  const activity = new Activity({
    id: newActivityIri(ctx, community.handle, kind),
    actor,
    object: new Article({
      id: new URL(proposalIri(policy, proposal)),
      attribution: actor,
      name: proposal.title,
      content: html(policy, proposal),
      published: Temporal.Instant.fromEpochMilliseconds(proposal.openedAt.getTime()),
      to: new URL(PUBLIC_AUDIENCE),
    }),
    to: new URL(PUBLIC_AUDIENCE),
  });
  await ctx.sendActivity({ identifier: community.handle }, recipients, activity, { preferSharedInbox: true });
}
