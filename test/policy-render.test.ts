import { describe, expect, it } from "vitest";
import { policyContentSchema, type PolicyContent, type PolicyContentInput } from "../src/policies/content.ts";
import { renderMarkdown, renderVersionHtml } from "../src/policies/render.ts";
import { ClauseView } from "../src/web/policy-components.tsx";

const XSS = [
  "<script>alert(1)</script>",
  '<img src=x onerror="alert(1)">',
  '<a href="javascript:alert(1)">js</a>',
  '<a href="JaVaScRiPt:alert(1)">js2</a>',
  '<a href=" javascript:alert(1)">js3</a>',
  '<a href="jav&#x09;ascript:alert(1)">js4</a>',
  "[md link](javascript:alert(1))",
  "[data](data:text/html;base64,PHNjcmlwdD4=)",
  '<div onclick="alert(1)" style="color:red">div</div>',
  "<style>body{display:none}</style>",
  '<iframe src="https://evil.example"></iframe>',
  '<svg onload="alert(1)"><script>alert(2)</script></svg>',
  '<form action="https://evil.example"><input name="x"></form>',
  '<p style="background:url(javascript:alert(1))">styled</p>',
  "![pic](javascript:alert(1))",
].join("\n\n");

/** No executable or styling HTML of any kind (escaped text may mention it harmlessly). */
function expectInert(html: string): void {
  const tags = html.match(/<[a-z][^>]*>/gi) ?? [];
  for (const tag of tags) {
    expect(tag).not.toMatch(/^<(script|style|iframe|svg|form|input|img|div)/i);
    expect(tag).not.toMatch(/\son\w+\s*=|style\s*=/i);
    expect(tag).not.toMatch(/javascript:|data:/i);
  }
  expect(html).not.toMatch(/<script|<style/i);
}

/** Every tag in the HTML is one of the allowed ones. */
function tagsIn(html: string): Set<string> {
  return new Set([...html.matchAll(/<\/?([a-z0-9]+)/gi)].map((match) => match[1]!.toLowerCase()));
}

describe("renderMarkdown", () => {
  it("renders ordinary Markdown", () => {
    const html = renderMarkdown("# Title\n\nSome *emphasis*, **strong**, `code` and ~~gone~~.\n\n- one\n- two\n\n> quoted\n\n```js\nlet x = 1 < 2;\n```");
    expect(html).toBe(
      [
        "<h1>Title</h1>",
        "<p>Some <em>emphasis</em>, <strong>strong</strong>, <code>code</code> and <del>gone</del>.</p>",
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>",
        "<blockquote>\n<p>quoted</p>\n</blockquote>",
        '<pre><code class="language-js">let x = 1 &lt; 2;\n</code></pre>',
      ].join("\n"),
    );
  });

  it("removes scripts, event handlers, styles and javascript: URLs", () => {
    const html = renderMarkdown(XSS);
    expectInert(html);
    expect(html).toContain("div");
    expect(html).toContain("styled");
    // Unsafe links keep their text but lose the link.
    expect(html).toContain("js2");
    expect(html).not.toMatch(/<a[^>]*>js/);
  });

  it("keeps http(s) and mailto links, adding rel=nofollow noopener", () => {
    const html = renderMarkdown('[site](https://example.org/a?b=1&c=2) <a href="http://x.example" target="_blank" rel="opener">x</a> [mail](mailto:a@example.org) <https://auto.example>');
    expect(html).toBe(
      '<p><a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener">site</a> ' +
        '<a href="http://x.example/" rel="nofollow noopener">x</a> ' +
        '<a href="mailto:a@example.org" rel="nofollow noopener">mail</a> ' +
        '<a href="https://auto.example/" rel="nofollow noopener">https://auto.example</a></p>',
    );
  });

  it("turns relative, protocol-relative and other-scheme links into text (fragments only when federated)", () => {
    expect(renderMarkdown("[a](/path) [b](#frag) [c](//evil.example/x) [d](ftp://x.example)", { federated: true })).toBe("<p>a b c d</p>");
    expect(renderMarkdown("[a](/path) [b](#frag) [c](//evil.example/x) [d](ftp://x.example)")).toBe('<p>a <a href="#clause-frag">b</a> c d</p>');
  });

  it("on our pages, points a link to another clause at that clause; federated, it is the title as text", () => {
    expect(renderMarkdown("see [Respect the letter and spirit](#letter_and_spirit)")).toBe('<p>see <a href="#clause-letter_and_spirit">Respect the letter and spirit</a></p>');
    expect(renderMarkdown("see [Respect the letter and spirit](#letter_and_spirit)", { federated: true })).toBe("<p>see Respect the letter and spirit</p>");
    expect(renderMarkdown("[x](#bad id) [y](#javascript:alert(1))")).not.toMatch(/href/);
  });

  it("turns images into links labelled with their alt text", () => {
    expect(renderMarkdown("![A chart](https://img.example/c.png) ![](https://img.example/d.png) ![bad](data:image/png;base64,AAAA)")).toBe(
      '<p><a href="https://img.example/c.png" rel="nofollow noopener">A chart</a> ' +
        '<a href="https://img.example/d.png" rel="nofollow noopener">image</a> bad</p>',
    );
  });

  it("keeps tables on the web and lists their rows when federated", () => {
    const table = "| Level | Who |\n|:--|--:|\n| root | platform |\n| user | *you* |";
    const web = renderMarkdown(table);
    expect(web).toContain('<th align="left">Level</th>');
    expect(web).toContain("<td>root</td>".replace("<td>", '<td align="left">'));
    const federated = renderMarkdown(table, { federated: true });
    expect(federated).toBe(
      "<ul><li><strong>Level:</strong> root; <strong>Who:</strong> platform</li><li><strong>Level:</strong> user; <strong>Who:</strong> <em>you</em></li></ul>",
    );
  });

  it("shifts headings to nest them, capped at h6", () => {
    expect(renderMarkdown("# A\n\n##### B\n\n###### C", { headingOffset: 2 })).toBe("<h3>A</h3>\n<h6>B</h6>\n<h6>C</h6>");
  });
});

const input: PolicyContentInput = {
  title: 'Kind <b>replies</b> & "more"',
  summary: "How we want assistants to *talk*. <script>alert('summary')</script>",
  licence: "CC-BY-4.0",
  contexts: [{ domain: ["education"], locale: ["en", "sw"] }],
  sections: [
    { id: "tone", title: "Tone", parent: null, text: "Intro to **tone**.\n\n# A heading inside" },
    { id: "tone.refusals", title: "Refusals <img src=x onerror=alert(1)>", parent: "tone" },
    { id: "honesty", title: "Honesty", parent: null },
  ],
  clauses: [
    { id: "top", authority: "root", text: "A clause outside any section." },
    {
      id: "no-lies",
      section: "honesty",
      authority: "system",
      title: "No lies",
      text: "Never state [falsehoods](javascript:alert(1)).",
      tags: ["honesty", "core"],
    },
    {
      id: "be-kind",
      section: "tone",
      authority: "guideline",
      title: "Be kind",
      text: "Be kind, even when the user is not.\n\n| a | b |\n|---|---|\n| 1 | 2 |",
      rationale: "People <em onmouseover=alert(1)>remember</em> tone.",
      context: { audience: ["children"] },
      examples: [
        {
          title: "Insult",
          prompt: [
            { role: "system", content: "Be helpful." },
            { role: "user", content: "You are useless <script>x()</script>\nreally." },
          ],
          responses: [
            { content: "Sorry that was frustrating; let's try again.", label: "good" },
            { content: "No, you are.", label: "bad", note: 'mirrors <a href="javascript:x">hostility</a>' },
          ],
          why: "Kindness defuses.",
        },
      ],
    },
    { id: "refuse-gently", section: "tone.refusals", authority: "developer", text: "Refuse **gently**." },
  ],
};
const content: PolicyContent = policyContentSchema.parse(input);
const meta = { versionNumber: 3, changelog: "2 clauses added, 1 edited\n\n<script>alert('changelog')</script>" };

describe("renderVersionHtml", () => {
  const html = renderVersionHtml(content, meta);

  it("is deterministic", () => {
    expect(renderVersionHtml(content, meta)).toBe(html);
    const reparsed = policyContentSchema.parse(JSON.parse(JSON.stringify(content)));
    expect(renderVersionHtml(reparsed, { ...meta })).toBe(html);
  });

  it("contains no scripts, handlers, styles or javascript: URLs from any field", () => {
    expectInert(html);
    expect(html).not.toContain("alert('summary')");
    expect(html).not.toContain("alert('changelog')");
  });

  it("uses only HTML that Mastodon's sanitiser keeps (headings it turns into bold paragraphs)", () => {
    const allowed = new Set(["p", "br", "a", "del", "s", "pre", "code", "strong", "em", "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"]);
    for (const tag of tagsIn(html)) expect(allowed, tag).toContain(tag);
  });

  it("escapes plain-text fields", () => {
    expect(html).toContain("<h1>Kind &lt;b&gt;replies&lt;/b&gt; &amp; &quot;more&quot;</h1>");
    expect(html).toContain("<h3>Refusals &lt;img src=x onerror=alert(1)&gt;</h3>");
    expect(html).toContain("<p><strong>User:</strong> You are useless &lt;script&gt;x()&lt;/script&gt;<br>really.</p>");
  });

  it("lays out title, summary, changelog, then sections and clauses in order", () => {
    const order = [
      "<h1>Kind",
      "<p>Version 3 · Licence: CC-BY-4.0</p>",
      "How we want assistants to <em>talk</em>.",
      "<li>domain: education; locale: en, sw</li>",
      "<h2>Changes in version 3</h2>",
      "<p>2 clauses added, 1 edited</p>",
      "<h2>top</h2>",
      "<h2>Tone</h2>",
      "<h3>A heading inside</h3>",
      "<h3>Be kind</h3>",
      "<strong>Authority:</strong> guideline · <strong>Applies to:</strong> audience: children · <strong>Clause:</strong> <code>be-kind</code>",
      "<li><strong>a:</strong> 1; <strong>b:</strong> 2</li>",
      "<p><strong>Rationale:</strong></p>",
      "People <em>remember</em> tone.",
      "<p><strong>Example: Insult</strong></p>",
      "<blockquote><p><strong>System:</strong> Be helpful.</p>",
      "<li><strong>✅ Good response:</strong> Sorry that was frustrating; let&#39;s try again.</li>",
      "<li><strong>❌ Bad response:</strong> No, you are.<br><em>mirrors &lt;a href=&quot;javascript:x&quot;&gt;hostility&lt;/a&gt;</em></li>",
      "<p><em>Why:</em> Kindness defuses.</p>",
      "<h3>Refusals",
      "<h4>refuse-gently</h4>",
      "<strong>Authority:</strong> developer",
      "Refuse <strong>gently</strong>.",
      "<h2>Honesty</h2>",
      "<h3>No lies</h3>",
      "<strong>Tags:</strong> honesty, core",
      "<p>Never state falsehoods.</p>",
    ];
    let from = 0;
    for (const fragment of order) {
      const at = html.indexOf(fragment, from);
      expect(at, `"${fragment}" after position ${from}`).toBeGreaterThanOrEqual(0);
      from = at + fragment.length;
    }
  });

  it("leaves out an empty changelog, summary and rationale", () => {
    const bare = policyContentSchema.parse({ title: "Bare", licence: "MIT", clauses: [{ id: "c", authority: "user", text: "Text." }] });
    expect(renderVersionHtml(bare, { versionNumber: 1, changelog: "  " })).toBe(
      [
        "<h1>Bare</h1>",
        "<p>Version 1 · Licence: MIT</p>",
        "<h2>c</h2>",
        "<p><strong>Authority:</strong> user · <strong>Applies to:</strong> any context · <strong>Clause:</strong> <code>c</code></p>",
        "<p>Text.</p>",
      ].join("\n"),
    );
  });
});

describe("commentary and notes", () => {
  const content = policyContentSchema.parse({
    title: "Spec",
    licence: "CC0-1.0",
    clauses: [
      { id: "a", title: "A", authority: "root", text: "See [Letter and spirit](#letter_and_spirit).", commentary: "Why we wrote this.", notes: [{ id: "n1", text: "A note." }] },
      { id: "letter_and_spirit", title: "Letter and spirit", authority: "user", text: "Read intent." },
    ],
  });

  it("shows readers the commentary, marked as not normative, and the notes, on our pages", async () => {
    const html = String(await ClauseView({ clause: content.clauses[0]! }).toString());
    expect(html).toContain('<a href="#clause-letter_and_spirit">Letter and spirit</a>');
    expect(html).toContain('<aside class="commentary" aria-label="Commentary"><p class="muted">Commentary (not normative)</p>');
    expect(html).toContain("Why we wrote this.");
    expect(html).toContain("<summary>Notes (1)</summary>");
  });

  it("puts them in the federated Article, and leaves clauses without them as they were", () => {
    const html = renderVersionHtml(content, { versionNumber: 1, changelog: "" });
    expect(html).toContain("<p><strong>Commentary (not normative):</strong></p>\n<p>Why we wrote this.</p>");
    expect(html).toContain("<ol><li>n1: A note.</li></ol>");
    const plain = policyContentSchema.parse({ ...content, clauses: [content.clauses[1]!] });
    expect(renderVersionHtml(plain, { versionNumber: 1, changelog: "" })).not.toMatch(/Commentary|Notes/);
  });
});
