/**
 * /glossary: every word Fedalign uses, explained in plain language, each
 * entry at its own anchor (/glossary#quorum) for the hints on other pages.
 */
import { Hono } from "hono";
import type { WebEnv } from "../context.ts";
import { GLOSSARY_GROUPS, type GlossaryEntry } from "../glossary.tsx";

function GlossaryPage() {
  return (
    <>
      <h1>Glossary</h1>
      <p>
        The words these pages use, in plain language. Underlined words elsewhere (<a class="term" href="#quorum">like this</a>) link
        here; hovering over them shows the short version.
      </p>
      <nav aria-label="Glossary sections">
        <ul class="link-row">
          {GLOSSARY_GROUPS.map((group, i) => (
            <li>
              <a href={`#group-${i}`}>{group.title}</a>
            </li>
          ))}
        </ul>
      </nav>
      {GLOSSARY_GROUPS.map((group, i) => (
        <section aria-labelledby={`group-${i}`}>
          <h2 id={`group-${i}`}>{group.title}</h2>
          <dl class="glossary">
            {Object.entries(group.entries as Record<string, GlossaryEntry>).map(([name, entry]) => (
              <>
                <dt id={name}>
                  <dfn>{entry.term}</dfn>
                </dt>
                <dd>{entry.long}</dd>
              </>
            ))}
          </dl>
        </section>
      ))}
    </>
  );
}

export function glossaryPages() {
  const pages = new Hono<WebEnv>();
  pages.get("/glossary", (c) => c.render(<GlossaryPage />, { title: "Glossary" }));
  return pages;
}
