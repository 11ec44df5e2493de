import { describe, expect, it } from "vitest";
import { Note } from "@fedify/vocab";
import jsonld from "@fedify/vocab-runtime/jsonld";
import { preloadedContexts } from "@fedify/vocab-runtime";
import {
  ANNOTATION_CONTEXT,
  anchor,
  annotationInputSchema,
  buildAnnotationNote,
  htmlToText,
  isOutdated,
  MOTIVATIONS,
  parseAnnotationInput,
  parseAnnotationNote,
  selectorFor,
  type AnnotationLookup,
  type AnnotationNoteInput,
  type ParsedAnnotation,
  type TextQuoteSelector,
} from "../src/policies/annotation.ts";
import { InvalidInputError } from "../src/errors.ts";
import { PUBLIC_AUDIENCE } from "../src/policies/version-document.ts";

const COMMUNITY = "https://a.example/actors/nurses";
const POLICY = `${COMMUNITY}/policies/care`;
const V2 = `${POLICY}/versions/2`;
const V1 = `${POLICY}/versions/1`;
const clauseIri = (version: string, id: string) => `${version}/clauses/${id}`;

const CLAUSE_TEXT =
  "Be kind to patients. Explain each step in plain language,\nand check understanding.\n\nBe kind to colleagues too; be kind to yourself.";

const lookup: AnnotationLookup = {
  async clauseFromIri(iri) {
    const match = /^(.*\/versions\/\d+)\/clauses\/([^/]+)$/.exec(iri);
    if (!match || !iri.startsWith(POLICY)) return undefined;
    return { versionIri: match[1]!, policyIri: POLICY, clauseId: match[2]! };
  },
  async versionFromIri(iri) {
    if (iri === V1 || iri === V2) return { versionIri: iri, policyIri: POLICY };
    if (iri === POLICY) return { versionIri: V2, policyIri: POLICY };
    return undefined;
  },
};

function parsed(result: ParsedAnnotation | { ignored: string }): ParsedAnnotation {
  if ("ignored" in result) throw new Error(`ignored: ${result.ignored}`);
  return result;
}

function ignored(result: ParsedAnnotation | { ignored: string }): string {
  if (!("ignored" in result)) throw new Error("expected the Note to be ignored");
  return result.ignored;
}

describe("selectorFor", () => {
  it("keeps the exact span with up to 32 characters of context", () => {
    const selector = selectorFor(CLAUSE_TEXT, "plain language");
    expect(selector.exact).toBe("plain language");
    expect(selector.prefix).toBe(" patients. Explain each step in ");
    expect(selector.prefix.length).toBe(32);
    expect(selector.suffix).toBe(",\nand check understanding.\n\nBe k");
    expect(selector.suffix.length).toBe(32);
  });

  it("has empty context at the edges of the text", () => {
    expect(selectorFor(CLAUSE_TEXT, "Be kind to patients.").prefix).toBe("");
    expect(selectorFor(CLAUSE_TEXT, "kind to yourself.").suffix).toBe("");
  });

  it("selects the first of repeated phrases", () => {
    const selector = selectorFor(CLAUSE_TEXT, "be kind");
    // Case matters: "Be kind" at the start does not match "be kind".
    expect(CLAUSE_TEXT.indexOf(selector.exact)).toBe(CLAUSE_TEXT.indexOf("be kind to yourself"));
    expect(selectorFor(CLAUSE_TEXT, "Be kind").prefix).toBe("");
  });

  it("finds a quote whose whitespace differs, and keeps the clause's own", () => {
    const selector = selectorFor(CLAUSE_TEXT, "  plain   language, and check ");
    expect(selector.exact).toBe("plain language,\nand check");
  });

  it("throws a clear error if the quote does not occur or is empty", () => {
    expect(() => selectorFor(CLAUSE_TEXT, "be rude")).toThrow(InvalidInputError);
    expect(() => selectorFor(CLAUSE_TEXT, "be rude")).toThrow('The quote "be rude" does not occur in the clause text.');
    expect(() => selectorFor(CLAUSE_TEXT, "   ")).toThrow(/quote is empty/);
  });

  it("never cuts a surrogate pair in the context", () => {
    const text = `${"😀".repeat(20)}target${"😀".repeat(20)}`;
    const selector = selectorFor(text, "target");
    expect(selector.prefix).toBe("😀".repeat(16));
    expect(selector.suffix).toBe("😀".repeat(16));
    // Here 32 code units back (and forward) would fall between the halves of an emoji.
    const cut = selectorFor(`😀${"x".repeat(31)}target${"y".repeat(31)}😀`, "target");
    expect(cut.prefix).toBe("x".repeat(31));
    expect(cut.suffix).toBe("y".repeat(31));
  });
});

describe("anchor", () => {
  it("finds the quote in the unchanged text", () => {
    const selector = selectorFor(CLAUSE_TEXT, "check understanding");
    const found = anchor(CLAUSE_TEXT, selector);
    expect(found).toEqual({ found: true, start: CLAUSE_TEXT.indexOf("check understanding"), end: CLAUSE_TEXT.indexOf("check understanding") + 19 });
  });

  it("tells repeated phrases apart by their context", () => {
    const text = "Be kind. Listen first. Be kind. Write it down. Be kind.";
    const positions = [0, 23, 47];
    for (const position of positions) {
      const selector: TextQuoteSelector = {
        exact: "Be kind.",
        prefix: text.slice(Math.max(0, position - 32), position),
        suffix: text.slice(position + 8, position + 40),
      };
      expect(anchor(text, selector)).toEqual({ found: true, start: position, end: position + 8 });
    }
    // After an edit elsewhere, the context still points at the middle one.
    const edited = "Be kind. Listen first, always. Be kind. Write it down. Be kind.";
    const middle = { exact: "Be kind.", prefix: "d. Listen first. ", suffix: " Write it down. Be kind." };
    expect(anchor(edited, middle)).toEqual({ found: true, start: 31, end: 39 });
  });

  it("tolerates changed whitespace in the clause and the selector", () => {
    const selector = selectorFor(CLAUSE_TEXT, "plain language, and check understanding.");
    const reflowed = CLAUSE_TEXT.replace(",\nand", ",  and").replace("\n\nBe", "\nBe");
    const found = anchor(reflowed, selector);
    expect(found.found).toBe(true);
    if (found.found) expect(reflowed.slice(found.start, found.end)).toBe("plain language,  and check understanding.");
    expect(anchor("Explain\teach  step\n in plain\nlanguage", { exact: "plain language", prefix: "step in ", suffix: "" })).toEqual({
      found: true,
      start: 23,
      end: 37,
    });
  });

  it("is not found when the quoted text is gone", () => {
    const selector = selectorFor(CLAUSE_TEXT, "plain language");
    expect(anchor(CLAUSE_TEXT.replace("plain language", "simple words"), selector)).toEqual({ found: false });
    expect(anchor(CLAUSE_TEXT, { exact: "  ", prefix: "", suffix: "" })).toEqual({ found: false });
  });
});

describe("isOutdated", () => {
  const selector = selectorFor(CLAUSE_TEXT, "plain language");

  it("is current while the clause and the quote are there", () => {
    expect(isOutdated(selector, CLAUSE_TEXT)).toBe(false);
    expect(isOutdated(selector, `Always: ${CLAUSE_TEXT.replace("\n", " ")}`)).toBe(false);
    expect(isOutdated(null, "Completely rewritten.")).toBe(false);
  });

  it("is outdated when the quote is gone", () => {
    expect(isOutdated(selector, CLAUSE_TEXT.replace("plain language", "plain words"))).toBe(true);
  });

  it("is outdated when the clause is gone, quote or not", () => {
    expect(isOutdated(selector, undefined)).toBe(true);
    expect(isOutdated(null, undefined)).toBe(true);
  });
});

describe("annotation input", () => {
  const clauses: Record<string, string> = { kindness: CLAUSE_TEXT };
  const clauseText = (id: string) => clauses[id];

  it("accepts a comment, trims it and makes the selector", () => {
    const result = parseAnnotationInput({ clauseId: "kindness", motivation: "question", text: "  Why?  ", quote: " plain\nlanguage " }, clauseText);
    expect(result).toEqual({
      ok: true,
      annotation: { clauseId: "kindness", motivation: "question", text: "Why?", quote: "plain\nlanguage" },
      selector: selectorFor(CLAUSE_TEXT, "plain language"),
    });
    const whole = parseAnnotationInput({ clauseId: "kindness", motivation: "endorse", text: "Yes." }, clauseText);
    expect(whole.ok && whole.selector).toBe(null);
  });

  it("explains what is wrong", () => {
    const issues = (input: unknown) => {
      const result = parseAnnotationInput(input, clauseText);
      return result.ok ? [] : result.issues;
    };
    expect(issues({ clauseId: "kindness", motivation: "praise", text: "x" })).toEqual([
      { path: "motivation", message: `unknown motivation "praise"; use one of ${MOTIVATIONS.join(", ")}` },
    ]);
    expect(issues({ clauseId: "kindness", text: "x" })).toEqual([
      { path: "motivation", message: `motivation is required; use one of ${MOTIVATIONS.join(", ")}` },
    ]);
    expect(issues({ clauseId: "kindness", motivation: "comment", text: "   " })).toEqual([{ path: "text", message: "must not be empty" }]);
    expect(issues({ clauseId: "kindness", motivation: "comment" })).toEqual([{ path: "text", message: "text is required" }]);
    expect(issues({ clauseId: "kindness", motivation: "comment", text: "x".repeat(5001) })).toEqual([
      { path: "text", message: "must be at most 5000 characters" },
    ]);
    expect(issues({ clauseId: "kindness", motivation: "comment", text: "x", quote: "y".repeat(1001) })).toEqual([
      { path: "quote", message: "must be at most 1000 characters" },
    ]);
    expect(issues({ clauseId: "kindness", motivation: "suggest-edit", text: "Shorter." })).toEqual([
      { path: "suggestedText", message: 'is required when the motivation is "suggest-edit"' },
    ]);
    expect(issues({ clauseId: "kindness", motivation: "object", text: "No.", suggestedText: "Something else." })).toEqual([
      { path: "suggestedText", message: 'is only allowed when the motivation is "suggest-edit" (this one is "object")' },
    ]);
    expect(issues({ clauseId: "nope", motivation: "comment", text: "x" })).toEqual([
      { path: "clauseId", message: 'this version has no clause "nope"' },
    ]);
    expect(issues({ clauseId: "kindness", motivation: "comment", text: "x", quote: "be rude" })).toEqual([
      { path: "quote", message: 'does not occur in the text of clause "kindness" (quote its Markdown text; whitespace may differ)' },
    ]);
    expect(issues({ clauseId: "kindness", motivation: "suggest-edit", text: "x", quote: "plain language", suggestedText: "plain\nlanguage" })).toEqual([
      { path: "suggestedText", message: "is the same as the quoted text" },
    ]);
    expect(issues({ clauseId: "kindness", motivation: "comment", text: "x", extra: 1 })[0]?.message).toMatch(/extra/);
  });

  it("is a plain zod schema for the API", () => {
    expect(annotationInputSchema.safeParse({ clauseId: "k", motivation: "suggest-edit", text: "x", suggestedText: "y" }).success).toBe(true);
  });
});

const BASE: AnnotationNoteInput = {
  id: "https://b.example/annotations/42",
  author: "https://b.example/actors/alice",
  clauseIri: clauseIri(V2, "kindness"),
  versionIri: V2,
  policyIri: POLICY,
  clauseId: "kindness",
  motivation: "suggest-edit",
  text: "Plain language alone is not enough.\n\nAlso: use interpreters & check <b>twice</b>.",
  selector: selectorFor(CLAUSE_TEXT, "plain language"),
  suggestedText: "plain language, with a **professional interpreter** when needed",
  published: new Date("2025-03-04T10:11:12.000Z"),
  to: [PUBLIC_AUDIENCE],
  cc: ["https://b.example/actors/alice/followers", COMMUNITY],
  mentions: [{ href: COMMUNITY, name: "@nurses@a.example" }],
};

describe("buildAnnotationNote", () => {
  it("is a Note replying to the clause, with our terms inline", () => {
    const note = buildAnnotationNote(BASE);
    expect(note["@context"]).toEqual(ANNOTATION_CONTEXT);
    expect(note).toMatchObject({
      id: BASE.id,
      type: "Note",
      attributedTo: BASE.author,
      inReplyTo: BASE.clauseIri,
      source: { content: BASE.text, mediaType: "text/plain" },
      published: "2025-03-04T10:11:12.000Z",
      to: [PUBLIC_AUDIENCE],
      tag: [{ type: "Mention", href: COMMUNITY, name: "@nurses@a.example" }],
      motivation: "oa:editing",
      policy: POLICY,
      annotates: V2,
      clause: "kindness",
      selector: { type: "TextQuoteSelector", exact: "plain language", prefix: BASE.selector!.prefix, suffix: BASE.selector!.suffix },
      suggestedText: BASE.suggestedText,
    });
    expect(note).not.toHaveProperty("updated");
    expect(buildAnnotationNote(BASE)).toEqual(note);
    expect(JSON.stringify(buildAnnotationNote(BASE))).toBe(JSON.stringify(note));
  });

  it("has readable content: mention, label, quote, text and suggestion", () => {
    const content = buildAnnotationNote(BASE).content as string;
    expect(content).toBe(
      [
        `<p><span class="h-card"><a href="${COMMUNITY}" class="u-url mention">@<span>nurses</span></a></span> <strong>Suggested edit</strong> on clause <a href="${BASE.clauseIri}">kindness</a>:</p>`,
        "<blockquote><p>plain language</p></blockquote>",
        "<p>Plain language alone is not enough.</p><p>Also: use interpreters &amp; check &lt;b&gt;twice&lt;/b&gt;.</p>",
        "<p><strong>Suggested replacement for the quoted text:</strong></p>",
        "<blockquote><p>plain language, with a <strong>professional interpreter</strong> when needed</p></blockquote>",
      ].join(""),
    );
  });

  it("escapes HTML in every field, so nothing can be injected", () => {
    const hostile = buildAnnotationNote({
      ...BASE,
      clauseId: "k",
      clauseIri: 'javascript:alert("x")',
      text: '<script>alert(1)</script><img src=x onerror="alert(2)">',
      selector: { exact: "<iframe src=https://evil.example>", prefix: "", suffix: "" },
      suggestedText: '<script>alert(3)</script>[x](javascript:alert(4)) <a href="https://ok.example" onclick="alert(5)">ok</a>',
      mentions: [{ href: 'https://a.example/"><script>alert(6)</script>', name: "@<b>nurses</b>@a.example" }],
    });
    const content = hostile.content as string;
    // Only our own tags, with no handlers and no javascript: links (escaped text may mention anything).
    for (const tag of content.match(/<[a-z][^>]*>/gi) ?? []) {
      expect(tag).toMatch(/^<(p|a|span|strong|blockquote)[ >]/);
      expect(tag).not.toMatch(/\son\w+=|javascript:/i);
    }
    expect(content).toContain('<a href="https://a.example/%22%3E%3Cscript%3Ealert(6)%3C/script%3E" class="u-url mention">');
    expect(content).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(content).toContain("&lt;iframe src=https://evil.example&gt;");
    expect(content).toContain('<a href="https://ok.example/" rel="nofollow noopener">ok</a>');
    // The unsafe clause link is plain text.
    expect(content).toContain("on clause k:");
  });

  it("leaves out what is not there", () => {
    const note = buildAnnotationNote({ ...BASE, motivation: "endorse", selector: null, suggestedText: null, mentions: [], updated: new Date("2025-03-05T00:00:00Z") });
    expect(note).not.toHaveProperty("selector");
    expect(note).not.toHaveProperty("suggestedText");
    expect(note).not.toHaveProperty("tag");
    expect(note.updated).toBe("2025-03-05T00:00:00.000Z");
    expect(note.motivation).toBe("fedalign:endorsing");
    expect(note.content).toMatch(/^<p><strong>Endorsement<\/strong> on clause <a [^>]+>kindness<\/a><\/p><p>Plain language/);
    expect(() => buildAnnotationNote({ ...BASE, motivation: "comment" })).toThrow(/suggestedText/);
    expect(() => buildAnnotationNote({ ...BASE, suggestedText: null })).toThrow(/suggestedText/);
  });

  it("omits empty selector context, as the Web Annotation model allows", () => {
    const note = buildAnnotationNote({ ...BASE, motivation: "comment", suggestedText: null, selector: selectorFor(CLAUSE_TEXT, "Be kind to patients.") });
    expect(note.selector).toEqual({ type: "TextQuoteSelector", exact: "Be kind to patients.", suffix: " Explain each step in plain lang" });
  });

  it("is a Note with inReplyTo and content to ActivityStreams software (Fedify)", async () => {
    const note = await Note.fromJsonLd(buildAnnotationNote(BASE));
    expect(note).toBeInstanceOf(Note);
    expect(note.id?.href).toBe(BASE.id);
    expect(note.replyTargetId?.href).toBe(BASE.clauseIri);
    expect(note.attributionId?.href).toBe(BASE.author);
    expect(note.content?.toString()).toContain("Plain language alone is not enough.");
    expect(note.published?.toString()).toBe("2025-03-04T10:11:12Z");
    expect(note.toIds.map((iri) => iri.href)).toEqual([PUBLIC_AUDIENCE]);
  });

  it("means Web Annotation terms to a JSON-LD processor", async () => {
    const documentLoader = async (url: string) => {
      if (url in preloadedContexts) return { contextUrl: null, documentUrl: url, document: preloadedContexts[url] };
      throw new Error(`no network in tests: ${url}`);
    };
    const [expanded] = (await jsonld.expand(buildAnnotationNote(BASE), { documentLoader })) as Record<string, unknown>[];
    const oa = "http://www.w3.org/ns/oa#";
    expect(expanded![`${oa}motivatedBy`]).toEqual([{ "@id": `${oa}editing` }]);
    expect(expanded!["https://fedalign.org/ns#annotates"]).toEqual([{ "@id": V2 }]);
    expect(expanded!["https://fedalign.org/ns#clause"]).toEqual([{ "@value": "kindness" }]);
    expect(expanded![`${oa}hasSelector`]).toEqual([
      {
        "@type": [`${oa}TextQuoteSelector`],
        [`${oa}exact`]: [{ "@value": "plain language" }],
        [`${oa}prefix`]: [{ "@value": BASE.selector!.prefix }],
        [`${oa}suffix`]: [{ "@value": BASE.selector!.suffix }],
      },
    ]);
    const endorse = buildAnnotationNote({ ...BASE, motivation: "endorse", suggestedText: null });
    const [expandedEndorse] = (await jsonld.expand(endorse, { documentLoader })) as Record<string, unknown>[];
    expect(expandedEndorse![`${oa}motivatedBy`]).toEqual([{ "@id": "https://fedalign.org/ns#endorsing" }]);
  });
});

describe("parseAnnotationNote: our own Notes", () => {
  it("round-trips every field", async () => {
    const note = buildAnnotationNote({ ...BASE, updated: new Date("2025-03-05T08:00:00Z") });
    const result = parsed(await parseAnnotationNote(JSON.parse(JSON.stringify(note)), lookup));
    expect(result).toEqual({
      noteId: BASE.id,
      author: BASE.author,
      versionIri: V2,
      policyIri: POLICY,
      clauseId: "kindness",
      motivation: "suggest-edit",
      text: BASE.text,
      selector: BASE.selector,
      suggestedText: BASE.suggestedText,
      published: BASE.published,
      updated: new Date("2025-03-05T08:00:00Z"),
      sourceHtml: expect.stringContaining("<strong>Suggested edit</strong>"),
      format: "fedalign",
    });
  });

  it("round-trips each motivation", async () => {
    for (const motivation of MOTIVATIONS) {
      const suggestedText = motivation === "suggest-edit" ? "Kinder." : null;
      const result = parsed(await parseAnnotationNote(buildAnnotationNote({ ...BASE, motivation, suggestedText, selector: null }), lookup));
      expect([result.motivation, result.suggestedText, result.selector]).toEqual([motivation, suggestedText, null]);
    }
  });

  it("reads full IRIs, and an unknown motivation as a comment", async () => {
    const note = buildAnnotationNote({ ...BASE, motivation: "question", suggestedText: null });
    expect(parsed(await parseAnnotationNote({ ...note, motivation: "http://www.w3.org/ns/oa#questioning" }, lookup)).motivation).toBe("question");
    expect(parsed(await parseAnnotationNote({ ...note, motivation: "fedalign:praising" }, lookup)).motivation).toBe("comment");
    expect(parsed(await parseAnnotationNote({ ...note, motivation: undefined }, lookup)).motivation).toBe("comment");
  });

  it("takes the text from content when there is no source", async () => {
    const note = buildAnnotationNote({ ...BASE, motivation: "comment", suggestedText: null, selector: null, mentions: [] });
    delete note.source;
    expect(parsed(await parseAnnotationNote(note, lookup)).text).toBe(
      "Comment on clause kindness\n\nPlain language alone is not enough.\n\nAlso: use interpreters & check <b>twice</b>.",
    );
  });

  it("ignores inconsistent or invalid terms", async () => {
    const note = buildAnnotationNote(BASE);
    expect(ignored(await parseAnnotationNote({ ...note, clause: "other" }, lookup))).toBe('names clause "other" but replies to clause "kindness"');
    expect(ignored(await parseAnnotationNote({ ...note, annotates: V1 }, lookup))).toMatch(/annotates .*\/versions\/1 but replies to/);
    expect(ignored(await parseAnnotationNote({ ...note, policy: "https://a.example/actors/nurses/policies/other" }, lookup))).toMatch(/names policy/);
    expect(ignored(await parseAnnotationNote({ ...note, suggestedText: undefined }, lookup))).toBe("a suggested edit without suggestedText");
    expect(ignored(await parseAnnotationNote({ ...note, selector: { type: "TextPositionSelector", start: 1, end: 2 } }, lookup))).toMatch(
      /selector\.type: must be a TextQuoteSelector; selector\.exact/,
    );
    expect(ignored(await parseAnnotationNote({ ...note, source: { content: "x".repeat(5001), mediaType: "text/plain" } }, lookup))).toMatch(
      /longer than 5000 characters/,
    );
  });

  it("accepts a Note about a clause that replies to the policy, naming the version", async () => {
    const note = buildAnnotationNote({ ...BASE, versionIri: V1, clauseIri: POLICY });
    const result = parsed(await parseAnnotationNote(note, lookup));
    expect([result.versionIri, result.clauseId]).toEqual([V1, "kindness"]);
  });

  it("drops suggestedText unless the motivation is suggest-edit", async () => {
    const note = buildAnnotationNote({ ...BASE, motivation: "object", suggestedText: null });
    expect(parsed(await parseAnnotationNote({ ...note, suggestedText: "sneaky" }, lookup)).suggestedText).toBe(null);
  });
});

/** A reply as Mastodon 4 sends it (Create's object), written by hand. */
const MASTODON_REPLY = {
  "@context": [
    "https://www.w3.org/ns/activitystreams",
    {
      ostatus: "http://ostatus.org#",
      atomUri: "ostatus:atomUri",
      inReplyToAtomUri: "ostatus:inReplyToAtomUri",
      conversation: "ostatus:conversation",
      sensitive: "as:sensitive",
      toot: "http://joinmastodon.org/ns#",
      votersCount: "toot:votersCount",
      Hashtag: "as:Hashtag",
    },
  ],
  id: "https://mastodon.example/users/bob/statuses/113456789012345678",
  type: "Note",
  summary: null,
  inReplyTo: clauseIri(V2, "kindness"),
  published: "2025-03-04T10:11:12Z",
  url: "https://mastodon.example/@bob/113456789012345678",
  attributedTo: "https://mastodon.example/users/bob",
  to: ["https://www.w3.org/ns/activitystreams#Public"],
  cc: ["https://mastodon.example/users/bob/followers", COMMUNITY],
  sensitive: false,
  atomUri: "https://mastodon.example/users/bob/statuses/113456789012345678",
  inReplyToAtomUri: clauseIri(V2, "kindness"),
  conversation: "tag:mastodon.example,2025-03-04:objectId=9876543:objectType=Conversation",
  content:
    '<p><span class="h-card" translate="no"><a href="https://a.example/@nurses" class="u-url mention">@<span>nurses</span></a></span> I think this clause is too strict.</p>' +
    '<p>Night shifts &amp; weekends need <a href="https://example.org/rota/2025-spring" target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">https://</span><span class="ellipsis">example.org/rota/2025-sp</span><span class="invisible">ring</span></a><br />' +
    'a different rule, don&#39;t they? &lt;3 cc <span class="h-card" translate="no"><a href="https://c.example/@carol" class="u-url mention">@<span>carol</span></a></span> <a href="https://mastodon.example/tags/care" class="mention hashtag" rel="tag">#<span>care</span></a></p>',
  contentMap: { en: "(same as content)" },
  attachment: [],
  tag: [
    { type: "Mention", href: COMMUNITY, name: "@nurses@a.example" },
    { type: "Mention", href: "https://c.example/users/carol", name: "@carol@c.example" },
    { type: "Hashtag", href: "https://mastodon.example/tags/care", name: "#care" },
  ],
  replies: {
    id: "https://mastodon.example/users/bob/statuses/113456789012345678/replies",
    type: "Collection",
    first: { type: "CollectionPage", next: "https://mastodon.example/users/bob/statuses/113456789012345678/replies?only_other_accounts=true&page=true", partOf: "https://mastodon.example/users/bob/statuses/113456789012345678/replies", items: [] },
  },
};

describe("parseAnnotationNote: plain replies", () => {
  it("takes a Mastodon reply to a clause as a comment with clean text", async () => {
    const result = parsed(await parseAnnotationNote(MASTODON_REPLY, lookup));
    expect(result).toEqual({
      noteId: MASTODON_REPLY.id,
      author: "https://mastodon.example/users/bob",
      versionIri: V2,
      policyIri: POLICY,
      clauseId: "kindness",
      motivation: "comment",
      text: "I think this clause is too strict.\n\nNight shifts & weekends need https://example.org/rota/2025-spring\na different rule, don't they? <3 cc @carol #care",
      selector: null,
      suggestedText: null,
      published: new Date("2025-03-04T10:11:12Z"),
      updated: null,
      sourceHtml: expect.stringContaining('<a href="https://a.example/@nurses" rel="nofollow noopener" class="u-url mention">'),
      format: "plain",
    });
    expect(result.sourceHtml).not.toMatch(/target=|translate=/);
  });

  it("takes a reply to the version or the policy article as a comment on the whole version", async () => {
    const toVersion = parsed(await parseAnnotationNote({ ...MASTODON_REPLY, inReplyTo: V1 }, lookup));
    expect([toVersion.versionIri, toVersion.clauseId]).toEqual([V1, null]);
    const toPolicy = parsed(await parseAnnotationNote({ ...MASTODON_REPLY, inReplyTo: { type: "Article", id: POLICY } }, lookup));
    expect([toPolicy.versionIri, toPolicy.clauseId]).toEqual([V2, null]);
  });

  it("ignores Fedalign-looking fields without our context", async () => {
    const result = parsed(await parseAnnotationNote({ ...MASTODON_REPLY, motivation: "oa:editing", suggestedText: "x" }, lookup));
    expect([result.motivation, result.suggestedText, result.format]).toEqual(["comment", null, "plain"]);
  });

  it("uses contentMap when there is no content, and keeps script out", async () => {
    const { content: _content, ...rest } = MASTODON_REPLY;
    const result = parsed(await parseAnnotationNote({ ...rest, contentMap: { en: "<p>Too <script>alert(1)</script>strict.</p><ul><li>one</li><li>two</li></ul>" } }, lookup));
    expect(result.text).toBe("Too strict.\n\n- one\n- two");
    expect(result.sourceHtml).toBe("<p>Too strict.</p><ul><li>one</li><li>two</li></ul>");
  });

  it("ignores what is not an annotation", async () => {
    const reason = async (note: unknown) => ignored(await parseAnnotationNote(note, lookup));
    expect(await reason([MASTODON_REPLY])).toBe("not a JSON object");
    expect(await reason({ ...MASTODON_REPLY, type: "Question" })).toBe("not a Note");
    expect(await reason({ ...MASTODON_REPLY, id: undefined })).toBe("the Note has no http(s) id");
    expect(await reason({ ...MASTODON_REPLY, attributedTo: undefined })).toBe("the Note has no attributedTo");
    expect(await reason({ ...MASTODON_REPLY, attributedTo: "https://elsewhere.example/users/bob" })).toMatch(/not on the origin of its author/);
    expect(await reason({ ...MASTODON_REPLY, inReplyTo: undefined })).toBe("the Note replies to nothing");
    expect(await reason({ ...MASTODON_REPLY, inReplyTo: "https://mastodon.example/users/x/statuses/1" })).toMatch(/no clause, version or policy we know/);
    expect(await reason({ ...MASTODON_REPLY, to: [COMMUNITY], cc: [] })).toBe("the Note is not addressed to the public");
    expect(await reason({ ...MASTODON_REPLY, published: "yesterday" })).toBe("the Note has no valid published date");
    expect(await reason({ ...MASTODON_REPLY, content: '<p><span class="h-card"><a href="https://a.example/@nurses" class="u-url mention">@<span>nurses</span></a></span></p>' })).toBe(
      "the Note has no text",
    );
    expect(await reason({ ...MASTODON_REPLY, content: `<p>${"long ".repeat(1001)}</p>` })).toMatch(/longer than 5000 characters/);
  });

  it("accepts an unlisted reply (public in cc)", async () => {
    expect(parsed(await parseAnnotationNote({ ...MASTODON_REPLY, to: [COMMUNITY], cc: ["as:Public"] }, lookup)).clauseId).toBe("kindness");
  });
});

describe("htmlToText", () => {
  it("keeps mentions that are not at the start, and line structure", () => {
    expect(htmlToText("<p>Hi <a class=\"u-url mention\" href=\"https://x.example/@a\">@<span>a</span></a>!</p><p>one<br>two</p>", { dropLeadingMentions: true })).toBe(
      "Hi @a!\n\none\ntwo",
    );
    expect(htmlToText('<p><a class="mention" href="https://x.example/@a">@a</a> <a class="mention" href="https://x.example/@b">@b</a> hello</p>', { dropLeadingMentions: true })).toBe(
      "hello",
    );
    expect(htmlToText('<p><a class="mention" href="https://x.example/@a">@a</a> hello</p>')).toBe("@a hello");
    expect(htmlToText("<pre><code>a\n  b</code></pre><p>x &amp;amp; y</p>")).toBe("a\n  b\n\nx &amp; y");
  });
});
