/**
 * The frame every page shares (rendered through Hono's jsxRenderer, so a
 * handler calls `c.render(<Body />, { title, community })`): a skip link, the
 * instance's name and the page's community in the header, the navigation,
 * the one-shot notice, then the page.
 */
import type { Child } from "hono/jsx";
import { useRequestContext } from "hono/jsx-renderer";
import type { PageProps, WebEnv } from "./context.ts";
import { CsrfField, NoticeBox, SignInLink } from "./components.tsx";
import { links } from "./links.ts";

/** The header's link to the notifications, with how many are unread (read on every page: one indexed count). */
function NotificationsLink(props: { count: number }) {
  return (
    <a href={links.notifications()}>
      Notifications
      {props.count > 0 ? (
        <>
          {" "}
          <span class="count-badge">{props.count > 99 ? "99+" : props.count}</span>
          <span class="visually-hidden"> unread</span>
        </>
      ) : null}
    </a>
  );
}

/** The page around every handler's content; the header's unread count is loaded when the page is rendered (web.tsx). */
export function Layout(props: PageProps & { children?: Child }) {
  const c = useRequestContext<WebEnv>();
  const { instanceName } = c.get("deps");
  const session = c.get("session");
  const notice = c.get("notice");
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{[props.title, props.community && props.community.name !== props.title ? props.community.name : "", instanceName].filter(Boolean).join(" · ")}</title>
        <link rel="stylesheet" href="/static/style.css" />
        <link rel="icon" href="/static/icon.svg" type="image/svg+xml" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="site-header">
          <div class="bar">
            <p class="brand-line">
              <a class="brand" href={links.home()}>{instanceName}</a>
              {props.community ? (
                <>
                  {" › "}
                  <a class="brand-community" href={props.community.href}>
                    {props.community.name}
                  </a>
                </>
              ) : null}
            </p>
            <nav class="site-nav" aria-label="Main">
              <ul>
                <li><a href={links.home()}>Home</a></li>
                <li><a href={links.directory()}>Communities</a></li>
                <li><a href={links.search()}>Search</a></li>
                {session ? (
                  <>
                    <li><a href={links.feed()}>Feed</a></li>
                    <li><NotificationsLink count={c.get("unread") ?? 0} /></li>
                    <li><a href={links.follow()}>Follow</a></li>
                    <li><a href={links.offers()}>Offers</a></li>
                    <li><a href={links.bundle()}>Bundle</a></li>
                    <li><a href={links.settings()}>{session.user.username}</a></li>
                    {session.user.isAdmin ? <li><a href={links.admin()}>Admin</a></li> : null}
                    <li>
                      <form method="post" action="/logout">
                        <CsrfField />
                        <button type="submit">Sign out</button>
                      </form>
                    </li>
                  </>
                ) : (
                  <>
                    <li><a href={links.bundle()}>Bundle</a></li>
                    <li><SignInLink /></li>
                    <li><a href="/signup">Sign up</a></li>
                  </>
                )}
              </ul>
            </nav>
          </div>
        </header>
        <main id="main">
          {notice && !notice.near ? <NoticeBox notice={notice} /> : null}
          {props.children}
        </main>
        <footer class="site-footer">
          <p>
            {instanceName} runs Fedalign, a federated alignment network. <a href={links.glossary()}>Glossary</a> ·{" "}
            <a href="/api/v1/openapi.json">API</a>
          </p>
        </footer>
      </body>
    </html>
  );
}
