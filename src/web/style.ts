/**
 * The one stylesheet of the web UI, served at /static/style.css. Colours
 * meet WCAG AA contrast on white; layouts collapse to one column on phones.
 */
export const STYLESHEET = `
:root {
  --ink: #1b1b1b; --muted: #555; --line: #d0d4d9; --bg: #fff; --panel: #f5f7f9;
  --accent: #0b5394; --accent-ink: #fff; --danger: #a4001d; --ok: #1d6b2f;
  --add: #e6f4ea; --add-ink: #14532d; --del: #fdecea; --del-ink: #8a1010;
  --g0: #1f77b4; --g1: #d62728; --g2: #2ca02c; --g3: #9467bd; --g4: #8c564b;
}
* { box-sizing: border-box; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); margin: 0; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, summary:focus-visible {
  outline: 3px solid #f2a900; outline-offset: 2px;
}
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: .5rem; background: var(--bg); padding: .3rem .6rem; z-index: 10; }
.site-header { background: var(--accent); color: var(--accent-ink); }
.site-header a { color: var(--accent-ink); }
.site-header .bar { max-width: 60rem; margin: 0 auto; padding: .6rem 1rem; display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; align-items: center; justify-content: space-between; }
.brand { font-weight: 700; text-decoration: none; }
.brand-line { margin: 0; }
.brand-community { font-weight: 400; opacity: .95; }
.site-nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .2rem .9rem; align-items: center; }
.site-nav form { display: inline; }
.site-nav button { background: transparent; color: var(--accent-ink); border: 1px solid var(--accent-ink); margin: 0; padding: .1rem .6rem; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
.site-footer { max-width: 60rem; margin: 2rem auto 1rem; padding: 0 1rem; color: var(--muted); font-size: .9rem; border-top: 1px solid var(--line); }
h1 { font-size: 1.7rem; line-height: 1.25; margin: .6rem 0 .8rem; }
h2 { font-size: 1.3rem; margin: 1.6rem 0 .6rem; }
h3 { font-size: 1.1rem; margin: 1.2rem 0 .4rem; }
.muted { color: var(--muted); }
.notice { padding: .6rem .9rem; border-radius: 4px; margin: .8rem 0; border-left: 4px solid; }
.notice-success { background: var(--add); border-color: var(--ok); color: var(--add-ink); }
.notice-error { background: var(--del); border-color: var(--danger); color: var(--del-ink); }
form.stacked { max-width: 36rem; }
.field { margin: .8rem 0; }
.field label, .field legend { display: block; font-weight: 600; margin-bottom: .2rem; }
.field .hint { color: var(--muted); font-size: .9rem; margin: .1rem 0 .3rem; }
.field .field-error { color: var(--danger); font-weight: 600; margin: .2rem 0 0; }
input[type=text], input[type=password], input[type=url], input[type=email], input[type=number], input[type=datetime-local], input:not([type]), select, textarea {
  font: inherit; width: 100%; padding: .45rem .5rem; border: 1px solid #8a9099; border-radius: 4px; background: #fff; color: var(--ink);
}
textarea { min-height: 6rem; }
[aria-invalid=true] { border-color: var(--danger); border-width: 2px; }
button, .button { font: inherit; display: inline-block; padding: .45rem 1rem; margin: .4rem .4rem .4rem 0; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: var(--accent-ink); cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); }
form.inline { display: inline; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.table-wrap { overflow-x: auto; }
.pager { display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; align-items: baseline; margin: 1rem 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; margin: .8rem 0; background: #fff; }
.panel { background: var(--panel); border-radius: 6px; padding: .8rem 1rem; margin: .8rem 0; }
.tag { display: inline-block; font-size: .8rem; padding: .05rem .45rem; border-radius: 999px; border: 1px solid var(--line); background: var(--panel); color: var(--ink); margin-right: .3rem; }
.tag-root { background: #2b2b2b; color: #fff; border-color: #2b2b2b; }
.tag-system { background: #5b2a86; color: #fff; border-color: #5b2a86; }
.tag-developer { background: #0b5394; color: #fff; border-color: #0b5394; }
.tag-user { background: #1d6b2f; color: #fff; border-color: #1d6b2f; }
.tag-guideline { background: #fff; color: #333; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
@media (max-width: 40rem) { .columns { grid-template-columns: 1fr; } h1 { font-size: 1.4rem; } }
ins, .diff-add { background: var(--add); color: var(--add-ink); text-decoration: none; }
del, .diff-del { background: var(--del); color: var(--del-ink); }
ins::before { content: "+"; position: absolute; left: -9999px; }
del::before { content: "−"; position: absolute; left: -9999px; }
.clause { border-left: 3px solid var(--line); padding: .2rem 0 .2rem .8rem; margin: 1rem 0; }
.clause-added { border-color: var(--ok); }
.clause-removed { border-color: var(--danger); }
.clause-changed { border-color: #f2a900; }
pre, code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .92em; }
pre { background: var(--panel); padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
.remote-content { overflow-wrap: anywhere; }
svg.chart { max-width: 100%; height: auto; }
svg.chart text { font: 12px system-ui, sans-serif; fill: var(--ink); }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

/* area: accounts */
.token-created { border-color: var(--ok); }
input.token-value { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; width: 100%; }
.invite-link, .cli-command code { overflow-wrap: anywhere; }
/* area: home-community-follow */
.feed { list-style: none; padding: 0; margin: .4rem 0; }
.count-badge { display: inline-block; min-width: 1.4em; padding: 0 .35em; border-radius: 999px; background: #fff; color: var(--accent); font-weight: 700; font-size: .85rem; text-align: center; line-height: 1.4; }
.notifications { list-style: none; padding: 0; margin: .4rem 0; }
.notification { border-left: 3px solid var(--line); padding: .3rem 0 .3rem .8rem; margin: .7rem 0; overflow-wrap: anywhere; }
.notification p { margin: .15rem 0; }
.notification-unread { border-color: var(--accent); }
.notification-unread .notification-text { font-weight: 600; }
.tag-new { background: var(--accent); color: #fff; border-color: var(--accent); }
button.small { padding: .15rem .6rem; font-size: .9rem; }
.feed-item { border-left: 3px solid var(--line); padding: .3rem 0 .3rem .8rem; margin: .7rem 0; overflow-wrap: anywhere; }
.feed-item p { margin: .15rem 0; }
.feed-version { border-color: var(--accent); }
.feed-annotation { border-color: #f2a900; }
.feed-offer { border-color: var(--ok); }
.feed-text { white-space: pre-line; }
.community-list { list-style: none; padding: 0; }
.community-list li { margin: .5rem 0; }
.link-row { display: flex; flex-wrap: wrap; gap: .3rem 1rem; padding: 0; list-style: none; }
.state-pending { color: #7a4d00; }
.state-rejected { color: var(--danger); }
.state-accepted { color: var(--ok); }
/* area: policies */
.policy-actions { display: flex; flex-wrap: wrap; gap: 0 .2rem; margin: .4rem 0 .8rem; }
.version-picker, .diff-picker { display: flex; flex-wrap: wrap; gap: .4rem .8rem; align-items: end; margin: .8rem 0; }
.version-picker label { font-weight: 600; align-self: center; }
.version-picker select { width: auto; max-width: 100%; }
.diff-picker .field { margin: 0; min-width: 8rem; }
.hash { overflow-wrap: anywhere; }
.lineage li { margin: .2rem 0; overflow-wrap: anywhere; }
.toc ol { margin: .3rem 0; padding-left: 1.4rem; }
.policy-section { border-top: 1px solid var(--line); margin-top: 1.6rem; }
.authority-group h3 { font-size: 1rem; }
.clause-title { margin: .3rem 0; }
.clause-anchor { font-size: .8rem; font-weight: 400; text-decoration: none; margin-left: .3rem; }
.context-of-use { display: grid; grid-template-columns: max-content 1fr; gap: 0 .8rem; font-size: .9rem; margin: .4rem 0; }
.context-of-use dt { font-weight: 600; }
.context-of-use dd { margin: 0; }
details.example, details.rationale, details.annotate { margin: .4rem 0; }
details > summary { cursor: pointer; }
.example-body { border-left: 2px solid var(--line); padding-left: .7rem; margin: .3rem 0; }
.message-role { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); margin: .5rem 0 0; }
.response-good { border-left: 3px solid var(--ok); padding-left: .5rem; }
.response-bad { border-left: 3px solid var(--danger); padding-left: .5rem; }
.tag-bad { background: var(--danger); color: #fff; border-color: var(--danger); text-transform: none; }
.annotation-list { list-style: none; padding: 0; margin: .3rem 0; }
.annotation { background: var(--panel); border-radius: 6px; padding: .4rem .7rem; margin: .4rem 0; }
.annotation-reply { margin: .2rem 0; font-size: .9rem; }
.annotation-head { margin: 0 0 .2rem; font-size: .9rem; }
.annotation-quote { margin: .2rem 0; padding-left: .6rem; border-left: 3px solid var(--line); color: var(--muted); }
.word-diff { white-space: pre-wrap; overflow-wrap: anywhere; }
.diff-label { font-weight: 600; margin: .5rem 0 0; }
ins.block, del.block { display: block; padding: .1rem .4rem; }
.context-fields { border: 1px solid var(--line); border-radius: 4px; margin: .8rem 0; }
.draft-clause summary { font-weight: 600; }
.md table { display: block; overflow-x: auto; }
.md img { max-width: 100%; }
/* area: reading (contents sidebar, filters, clause pages, search) */
main:has(.reading-layout) { max-width: 78rem; }
.reading-layout { display: block; }
.reading-sidebar { margin: .8rem 0; }
.contents { background: var(--panel); border-radius: 6px; padding: .5rem .8rem; }
.contents > summary { font-weight: 600; }
.contents-count { margin: .3rem 0; font-size: .9rem; }
.contents-sections { margin: .2rem 0; padding-left: 1.1rem; font-size: .92rem; }
.contents-sections > li { margin: .35rem 0; }
.contents-section { font-weight: 600; }
.contents-clauses { padding-left: 1rem; margin: .15rem 0; }
.contents-clauses li { margin: .1rem 0; }
.search-form { display: flex; gap: .3rem; align-items: center; margin: .4rem 0; max-width: 36rem; }
.search-form input { flex: 1; min-width: 0; font: inherit; padding: .4rem .5rem; border: 1px solid #8a9099; border-radius: 4px; }
.search-form button { margin: 0; }
@media (min-width: 62rem) {
  .reading-layout { display: grid; grid-template-columns: 17rem minmax(0, 1fr); gap: 1.6rem; align-items: start; }
  .reading-sidebar { position: sticky; top: .5rem; max-height: calc(100vh - 1rem); overflow-y: auto; margin: 0; }
  /* Wide screens always show the contents: the summary goes, the folded content shows. */
  .contents > summary { display: none; }
  .contents::details-content { content-visibility: visible; display: block; }
}
.clause-filters > summary { padding: .1rem 0; }
.clause-filters fieldset { border: 0; padding: 0; margin: .5rem 0; }
.clause-filters legend { font-weight: 600; padding: 0; }
.choice-inline { display: inline-flex; gap: .3rem; align-items: center; margin: .15rem 1rem .15rem 0; }
.filter-facet { display: inline-block; min-width: 12rem; margin-right: 1rem; }
.reading-hint { font-size: .9rem; }
.clause-links { margin: .3rem 0; font-size: .95rem; }
details.examples, details.annotations { margin: .4rem 0; }
.breadcrumb { margin: .6rem 0 0; font-size: .95rem; overflow-wrap: anywhere; }
.clause-neighbours { display: flex; justify-content: space-between; gap: 1rem; margin: 1rem 0; flex-wrap: wrap; }
.clause-history li { margin: .3rem 0; }
.search-results { list-style: none; padding: 0; }
.search-results > li { border-left: 3px solid var(--line); padding: .1rem 0 .1rem .8rem; margin: 1rem 0; }
.search-hit-title { font-size: 1.1rem; margin: 0; }
.search-hit-where { margin: .1rem 0; font-size: .9rem; overflow-wrap: anywhere; }
.search-snippet { margin: .2rem 0; overflow-wrap: anywhere; }
mark { background: #fff0a8; color: var(--ink); padding: 0 .1em; }
/* area: forks-offers-bundles */
.merge-columns { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: .6rem; }
.merge-side { border: 1px solid var(--line); border-radius: 4px; padding: .4rem .6rem; overflow-wrap: anywhere; }
.merge-side h4 { margin: 0 0 .3rem; font-size: .95rem; }
.merge-base { background: var(--panel); }
.merge-ours { border-top: 4px solid var(--g0); }
.merge-theirs { border-top: 4px solid var(--g2); }
@media (max-width: 48rem) { .merge-columns { grid-template-columns: 1fr; } }
fieldset.field { border: 1px solid var(--line); border-radius: 4px; padding: .4rem .8rem; }
label.choice { display: block; font-weight: 400; margin: .2rem 0; }
.offer-actions input[type=text] { width: auto; max-width: 100%; }
.offer-accepted { background: var(--add); color: var(--add-ink); }
.offer-rejected { background: var(--del); color: var(--del-ink); }
.provenance { font-size: .9rem; color: var(--muted); overflow-wrap: anywhere; }
.source-row select { width: auto; max-width: 100%; }
fieldset.field { min-width: 0; }
.source-list { list-style: none; padding: 0; margin: .4rem 0; }
.source-row { padding: .4rem 0; border-bottom: 1px solid var(--line); }
.source-options { display: flex; flex-wrap: wrap; gap: .3rem .6rem; align-items: center; margin-left: 1.6rem; }
.field .source-options label { display: inline; font-weight: 400; margin: 0; }
.source-row input.rank { width: 5rem; }
.data-choice .option { display: flex; gap: .5rem; align-items: flex-start; margin: .5rem 0; } .data-choice .option input { margin-top: .35rem; flex: none; }
.field.data-choice .option label { display: block; font-weight: 600; } .data-choice .hint { display: block; font-weight: 400; color: var(--muted); font-size: .9rem; }
.bundle-effective { overflow-wrap: anywhere; } .bundle-effective .md pre { overflow-x: auto; }
.clause-id { font-size: .8rem; color: var(--muted); }
/* area: preferences */
.chart .series-0 { fill: var(--g0); } .chart .series-1 { fill: var(--g1); } .chart .series-2 { fill: var(--g2); } .chart .series-3 { fill: var(--g3); } .chart .series-4 { fill: var(--g4); }
.chart .gridline { stroke: var(--line); } .chart .reference { stroke: var(--muted); stroke-dasharray: 4 3; }
.chart .error-bar line { stroke: var(--ink); stroke-width: 1.5; } .chart .row-label { font-weight: 600; }
svg.chart .row-note, svg.chart text.tick, svg.chart .no-data { fill: var(--muted); }
.chart-figure { margin: 1rem 0; } .chart-table caption { text-align: left; font-weight: 600; padding: .3rem 0; }
.prefs .prompt-message { margin: .4rem 0; } .prefs .message-text, .prefs .response-text { white-space: pre-wrap; overflow-wrap: anywhere; margin: .3rem 0; }
.prefs .compare .response { display: flex; flex-direction: column; } .prefs .compare .response h3 { margin-top: 0; }
.prefs .compare .pick { margin-top: auto; padding-top: .6rem; border-top: 1px solid var(--line); }
.prefs fieldset { border: 1px solid var(--line); border-radius: 6px; padding: .6rem 1rem; margin: 1rem 0; min-width: 0; }
.prefs legend { font-weight: 600; padding: 0 .3rem; }
.prefs .option { display: flex; gap: .5rem; align-items: flex-start; margin: .5rem 0; } .prefs .option input { margin-top: .35rem; flex: none; }
.prefs .option label { font-weight: 600; } .prefs .option .hint { color: var(--muted); font-size: .9rem; margin: 0; font-weight: 400; }
.prefs .task-list { list-style: none; padding: 0; } .prefs .task-list h2, .prefs .panel h2 { margin-top: 0; }
.prefs .task-list h2 { font-size: 1.1rem; margin-bottom: .2rem; } .prefs .task-list .card { padding: .5rem .9rem; margin: .5rem 0; } .prefs .task-list .card p { margin: .25rem 0; } .task-filter { margin: .8rem 0; } .task-filter a[aria-current] { font-weight: 700; color: var(--ink); text-decoration: none; }
.prefs .option .hint { display: block; } svg.bar-chart { width: 100%; max-width: 40rem; }
/* area: diffs and the proposal builder */
.text-diff .md > :first-child { margin-top: .3rem; }
details.diff-unchanged { margin: .3rem 0; }
details.diff-unchanged > summary { color: var(--muted); font-size: .9rem; }
details.diff-unchanged > .md { color: var(--muted); border-left: 2px dashed var(--line); padding-left: .6rem; }
.diff-changed { overflow-wrap: anywhere; }
.diff-changed ins, .diff-changed del, .facet-changes ins, .facet-changes del { padding: 0 .1rem; border-radius: 2px; }
.facet-changes, .facet-details { margin: .3rem 0; padding-left: 1.2rem; }
.change-kind { font-size: .75rem; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.builder-changes { list-style: none; padding: 0; }
.builder-changes li { display: flex; flex-wrap: wrap; gap: .3rem .8rem; align-items: baseline; border-bottom: 1px solid var(--line); padding: .4rem 0; }
.builder-changes .change-what { flex: 1 1 14rem; overflow-wrap: anywhere; }
.builder-actions { display: flex; flex-wrap: wrap; gap: .4rem 1rem; align-items: center; margin: .8rem 0; }
.example-fields { border: 1px solid var(--line); border-radius: 4px; margin: .6rem 0; padding: .3rem .8rem; }
/* area: participation */
.choice-row { display: flex; flex-wrap: wrap; gap: .2rem; }
button.choice-current { font-weight: 700; outline: 2px solid var(--ink); outline-offset: 1px; }
fieldset.builder { border: 1px solid var(--line); border-radius: 6px; margin: 1rem 0; padding: .4rem 1rem; }
fieldset.builder legend { font-weight: 700; padding: 0 .3rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
@media (max-width: 40rem) { dl.facts { grid-template-columns: 1fr; } }
.outcome-adopted { border-left: 4px solid var(--ok); padding-left: .6rem; }
.outcome-rejected { border-left: 4px solid var(--danger); padding-left: .6rem; }
.proposal-open { background: #fff7e0; } .proposal-adopted { background: var(--add); color: var(--add-ink); } .proposal-rejected { background: var(--del); color: var(--del-ink); }
.clause-head { font-size: 1rem; }
table.tally { max-width: 30rem; } .tally-bar-cell { width: 50%; }
svg.tally-bar { width: 100%; height: .8rem; display: block; }
.tally-yes rect { fill: var(--ok); } .tally-no rect { fill: var(--danger); } .tally-abstain rect { fill: #6b7280; } .tally-block rect { fill: #2b2b2b; }
ol.statements, ul.statements, ol.discussion { list-style: none; padding: 0; }
.statement-body { font-size: 1.05rem; margin: .2rem 0; }
.opinion-map { margin: 1rem 0; }
svg.opinion-map-svg { width: 100%; border-radius: 6px; }
.opinion-map-frame { fill: var(--panel); stroke: var(--line); }
.opinion-map-axis { stroke: #8a9099; stroke-dasharray: 4 3; }
.opinion-point { stroke: #fff; stroke-width: 1.5; }
.op-g0 { fill: var(--g0); } .op-g1 { fill: var(--g1); } .op-g2 { fill: var(--g2); } .op-g3 { fill: var(--g3); } .op-g4 { fill: var(--g4); }
.opinion-legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; }
svg.opinion-swatch { width: .9rem; height: .9rem; vertical-align: -.1rem; margin-right: .3rem; }
.support-statement { font-weight: 400; min-width: 14rem; }
/* area: onboarding (glossary, hints, first steps, avatars, notices in place) */
a.term { color: inherit; text-decoration: underline dotted; text-underline-offset: .2em; text-decoration-thickness: 1px; }
a.term:hover { color: var(--accent); }
dl.glossary dt { font-weight: 700; margin-top: .9rem; scroll-margin-top: 1rem; }
dl.glossary dt:target { background: #fff7e0; }
dl.glossary dd { margin: .2rem 0 0; max-width: 42rem; }
dl.glossary dfn { font-style: normal; }
.form-error p { margin: 0; } .form-error ul { margin: .3rem 0 0; padding-left: 1.2rem; } .form-error a { color: var(--del-ink); }
[id] { scroll-margin-top: .5rem; }
/* Visually hidden text in a scrolled table is positioned absolutely: keep it inside the scroll box, not widening the page. */
.table-wrap { position: relative; }
.first-steps ol { list-style: none; padding: 0; margin: .4rem 0; }
.first-steps li { margin: .35rem 0; padding-left: 1.8rem; position: relative; }
.first-steps .step-mark { position: absolute; left: 0; top: .05rem; width: 1.3rem; height: 1.3rem; }
.first-steps .step-done { color: var(--muted); }
.first-steps .step-done .step-title { text-decoration: line-through; }
.avatar { width: 1.6rem; height: 1.6rem; border-radius: 4px; vertical-align: middle; margin-right: .35rem; flex: none; }
.avatar-large { width: 3rem; height: 3rem; border-radius: 6px; }
.avatar-round { border-radius: 50%; }
/* area: directory and joining */
ul.directory, ul.join-requests { list-style: none; padding: 0; margin: 0; }
.directory-entry h3 { margin: 0 0 .2rem; }
.directory-facts { margin: 0 0 .3rem; font-size: .92rem; overflow-wrap: anywhere; }
.directory-summary { margin: .3rem 0; overflow-wrap: anywhere; }
.directory-actions, .community-actions { display: flex; flex-wrap: wrap; gap: 0 1rem; align-items: center; }
.community-actions { align-items: flex-end; }
.directory-search { display: flex; flex-wrap: wrap; gap: 0 .6rem; align-items: end; max-width: 40rem; }
.directory-search .field { flex: 1 1 16rem; margin: .4rem 0; }
.directory-search input[type=search] { font: inherit; width: 100%; padding: .45rem .5rem; border: 1px solid #8a9099; border-radius: 4px; background: #fff; color: var(--ink); }
.follow-control, .join-control { margin: .3rem 0; }
.follow-state { font-weight: 600; margin-right: .2rem; }
.join-form { margin: .3rem 0; }
.join-form .field { margin: .2rem 0; }
`;

/** The site icon: two overlapping circles, for communities that agree in part. */
export const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="12" cy="16" r="9" fill="#0b5394" opacity=".85"/><circle cx="20" cy="16" r="9" fill="#1d6b2f" opacity=".85"/></svg>`;
