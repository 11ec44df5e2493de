/**
 * Annotations across instances. An annotation is a `Note` replying to a
 * clause (or to a version, for a plain Mastodon reply). The author's server
 * sends `Create` to the community that owns the policy; that community keeps
 * it (unless it blocked the author) and re-shares it with `Announce` to the
 * followers of the community and of the policy. Edits and deletions by the
 * author are forwarded the same way. Receivers always take the Note from
 * its author's origin, never from whoever relayed it (./entities/annotation.ts).
 * This module sends: a local annotation, and the community's re-shares and
 * forwards.
 */
import { Announce, Create, Delete, Tombstone, Update, type Recipient } from "@fedify/vocab";
import type { InboxContext } from "@fedify/fedify";
import type { Annotation } from "../src/policies/annotations.ts";
import { isLocal, type Policy } from "../src/policies/policies.ts";
import { PUBLIC_AUDIENCE } from "../src/policies/version-document.ts";
import type { FedCtx, InstanceData } from "./context.ts";
import { persistActor, toRecipient } from "./entities/actor.ts";
import { toAnnotation } from "./entities/annotation.ts";
import { lookupActor } from "./lookup.ts";
import { newActivityIri } from "./outgoing.ts";
import { ownerIdentifier, policyAudience } from "./policy-activities.ts";

// The receiving side moved to the entity module; these names stay importable from here.
export {
  annotationLookup,
  clauseIri,
  fetchAnnotation,
  persistAnnotation,
  receiveAnnotation,
  receiveReshare,
  resolveClause,
  toAnnotation,
  type FetchedAnnotation,
  type ParsedAnnotation,
} from "./entities/annotation.ts";

/** The community re-shares an annotation on its policy with its followers and the policy's. */
export async function reshareAnnotation(ctx: FedCtx, policy: Policy, annotation: Pick<Annotation, "iri" | "authorIri">): Promise<void> {
  const identifier = ownerIdentifier(ctx, policy);
  const recipients = (await policyAudience(ctx, policy)).filter((r) => r.id?.href !== annotation.authorIri);
  if (!identifier || recipients.length === 0) return;
  const announce = new Announce({
    id: newActivityIri(ctx, identifier, "announce"),
    actor: ctx.getActorUri(identifier),
    object: new URL(annotation.iri),
    to: new URL(PUBLIC_AUDIENCE),
    cc: ctx.getFollowersUri(identifier),
  });
  await ctx.sendActivity({ identifier }, recipients, announce, { preferSharedInbox: true });
}

/** Edits and deletions by the author go on to where the community re-shared the annotation. */
export async function forwardToAudience(ctx: InboxContext<InstanceData>, policy: Policy): Promise<void> {
  const identifier = ownerIdentifier(ctx, policy);
  if (!identifier) return;
  const recipients = await policyAudience(ctx, policy);
  if (recipients.length > 0) await ctx.forwardActivity({ identifier }, recipients, { skipIfUnsigned: true, preferSharedInbox: true });
}

async function ownerRecipient(ctx: FedCtx, policy: Policy): Promise<Recipient> {
  const owner = await lookupActor(ctx, policy.ownerIri);
  const row = await persistActor(ctx.data, owner);
  if (!row) throw new Error(`${policy.ownerIri} has no inbox`);
  return toRecipient(row);
}

/**
 * Sends a local annotation (or its edit or deletion) to the community that
 * owns the policy, and to the author's followers. For a policy of this
 * instance, the owner is here already: the activity goes straight to the
 * policy's audience instead (a new annotation is re-shared by the community
 * as usual). The Note travels in its standard form; receivers fetch the
 * full one, with our terms, from its IRI.
 */
export async function sendAnnotation(
  ctx: FedCtx,
  identifier: string,
  policy: Policy,
  annotation: Pick<Annotation, "iri" | "authorIri" | "note">,
  kind: "create" | "update" | "delete",
): Promise<void> {
  const actor = ctx.getActorUri(identifier);
  const id = newActivityIri(ctx, identifier, kind);
  const activity =
    kind === "delete"
      ? new Delete({ id, actor, object: new Tombstone({ id: new URL(annotation.iri) }), to: new URL(PUBLIC_AUDIENCE) })
      : new (kind === "create" ? Create : Update)({ id, actor, object: toAnnotation(annotation.note), to: new URL(PUBLIC_AUDIENCE), cc: ctx.getFollowersUri(identifier) });
  if (!isLocal(policy)) {
    await ctx.sendActivity({ identifier }, await ownerRecipient(ctx, policy), activity);
  } else if (kind === "create") {
    await reshareAnnotation(ctx, policy, annotation);
  } else {
    const audience = (await policyAudience(ctx, policy)).filter((r) => r.id?.href !== actor.href);
    if (audience.length > 0) await ctx.sendActivity({ identifier }, audience, activity, { preferSharedInbox: true });
  }
  await ctx.sendActivity({ identifier }, "followers", activity, { preferSharedInbox: true });
}

