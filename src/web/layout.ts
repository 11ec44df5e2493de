/** The page frame every server-rendered page shares. */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

type Body = HtmlEscapedString | Promise<HtmlEscapedString>;

export function layout(options: { title: string; instanceName: string; signedInAs?: string; csrfToken?: string }, body: Body) {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ${options.instanceName}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 0 auto; padding: 1rem; color: #1b1b1b; background: #fff; }
  header { display: flex; justify-content: space-between; align-items: center; border-bottom: 1px solid #ccc; margin-bottom: 1rem; }
  a { color: #0b5394; }
  label { display: block; margin: .5rem 0 .2rem; }
  input { font: inherit; padding: .3rem; width: 100%; max-width: 20rem; }
  button { font: inherit; padding: .3rem .8rem; margin-top: .6rem; }
  .error { color: #a00; }
  form.inline { display: inline; }
</style>
</head>
<body>
<header>
  <p><a href="/"><strong>${options.instanceName}</strong></a> · Fedalign</p>
  <nav>${
    options.signedInAs
      ? html`Signed in as ${options.signedInAs}
        <form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="${options.csrfToken ?? ""}"><button>Sign out</button></form>`
      : html`<a href="/login">Sign in</a>`
  }</nav>
</header>
<main>${body}</main>
</body>
</html>`;
}
