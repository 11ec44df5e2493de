/**
 * Replying to an annotation (local or from another instance): the
 * annotation, and a form whose reply joins the same clause (or discussion)
 * and tells its author (src/app/notifications.ts). Every annotation links
 * here ("Reply", ../policy-components.tsx).
 */
import { Hono, type Context } from "hono";
import { annotate } from "../../app/annotations.ts";
import { NewAnnotation } from "../../app/social-inputs.ts";
import { NotFoundError } from "../../errors.ts";
import { findAnnotation, type Annotation } from "../../policies/annotations.ts";
import { findPolicyByIri, findVersionByIri } from "../../policies/policies.ts";
import { FormError, PostForm, TextArea } from "../components.tsx";
import type { WebEnv } from "../context.ts";
import { formFields, redirectWithNotice, signInPath, submitForm } from "../forms.ts";
import { links } from "../links.ts";
import { AnnotationItem, authorOf } from "../policy-components.tsx";

async function parentOf(c: Context<WebEnv>, iri: string | undefined): Promise<Annotation> {
  const annotation = iri ? await findAnnotation(c.get("deps").db, iri) : undefined;
  if (!annotation || annotation.hiddenAt) throw new NotFoundError("There is no annotation to reply to at this address.");
  return annotation;
}

/** Where the thread is: the clause on its policy's page, or the proposal's discussion. */
async function threadHref(c: Context<WebEnv>, annotation: Annotation): Promise<string> {
  const { db } = c.get("deps");
  const policy = await findPolicyByIri(db, annotation.policyIri);
  const version = await findVersionByIri(db, annotation.versionIri);
  if (!policy || !version) return annotation.versionIri;
  return `${links.policy(policy.id, version.number)}${annotation.clauseId ? `#clause-${annotation.clauseId}` : ""}`;
}

/** The reply page, its data loaded first (called by the handler, not rendered as a component). */
async function replyPage(props: { c: Context<WebEnv>; parent: Annotation; text?: string; error?: string; message?: string }) {
  const { db, origin } = props.c.get("deps");
  const { parent } = props;
  const href = await threadHref(props.c, parent);
  const author = await authorOf(db, origin, parent.authorIri);
  return (
    <>
      <h1>Reply to an annotation</h1>
      <p>
        On {parent.clauseId ? <>clause <code>{parent.clauseId}</code></> : "the policy"}: <a href={href}>see it in its place</a>.
      </p>
      <ul class="annotation-list" aria-label="The annotation">
        <AnnotationItem annotation={{ ...parent, outdated: false }} author={author} replyLink={false} />
      </ul>
      <PostForm action="/reply" label="Post a reply">
        <FormError message={props.message} />
        <input type="hidden" name="to" value={parent.iri} />
        <TextArea name="text" label="Your reply" required value={props.text} error={props.error} hint="Plain text; its author is notified." />
        <button type="submit">Post reply</button>
      </PostForm>
    </>
  );
}

export function replyPages() {
  const pages = new Hono<WebEnv>();

  pages.get("/reply", async (c) => {
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    return c.render(await replyPage({ c, parent: await parentOf(c, c.req.query("to")) }), { title: "Reply" });
  });

  pages.post("/reply", async (c) => {
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const fields = await formFields(c);
    const parent = await parentOf(c, fields.to);
    const input = { target: parent.iri, motivation: "comment", text: fields.text ?? "" };
    const result = await submitForm(NewAnnotation, input, async (data) => await annotate(c.get("deps").context, c.get("session")?.user, data));
    if (result.ok) return redirectWithNotice(c, await threadHref(c, parent), "Your reply was added; its author is notified.");
    c.status(result.status as 400);
    return c.render(await replyPage({ c, parent, text: fields.text, error: result.fieldErrors.text, message: result.problem.detail }), { title: "Reply" });
  });

  return pages;
}
