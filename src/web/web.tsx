/**
 * The web interface: server-rendered pages for members and stewards. Each
 * area lives in its own module under ./pages; this file wires the shared
 * middleware: session and CSRF, the one-shot notice, security headers (a
 * Content-Security-Policy that allows no inline script), the stylesheet, and
 * error pages.
 */
import { Hono, type Context } from "hono";
import { unreadCount } from "../app/notifications.ts";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { jsxRenderer } from "hono/jsx-renderer";
import { secureHeaders } from "hono/secure-headers";
import { getLogger } from "@logtape/logtape";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { SESSION_COOKIE, sessionUser } from "../accounts/sessions.ts";
import { FedalignError } from "../errors.ts";
import type { WebDeps, WebEnv } from "./context.ts";
import { NOTICE_COOKIE, readNotice } from "./forms.ts";
import { Layout } from "./layout.tsx";
import { ICON, STYLESHEET } from "./style.ts";
import { ErrorPage } from "./pages/error-page.tsx";
import { accountPages } from "./pages/account-pages.tsx";
import { homePages } from "./pages/home-pages.tsx";
import { communityPages } from "./pages/community-pages.tsx";
import { directoryPages } from "./pages/directory-pages.tsx";
import { followPages } from "./pages/follow-pages.tsx";
import { policyPages } from "./pages/policy-pages.tsx";
import { forkPages } from "./pages/fork-pages.tsx";
import { bundlePages } from "./pages/bundle-pages.tsx";
import { preferencePages } from "./pages/preference-pages.tsx";
import { participationPages } from "./pages/participation-pages.tsx";
import { notificationPages } from "./pages/notification-pages.tsx";
import { replyPages } from "./pages/reply-pages.tsx";
import { glossaryPages } from "./pages/glossary-pages.tsx";

const logger = getLogger(["fedalign", "web"]);
const ANON_CSRF_COOKIE = "fedalign_csrf";

declare module "hono" {
  interface ContextRenderer {
    (content: string | Promise<string>, props: import("./context.ts").PageProps): Response | Promise<Response>;
  }
}

function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function createWeb(deps: WebDeps) {
  const secure = deps.origin.startsWith("https:");
  const web = new Hono<WebEnv>();

  web.get("/static/style.css", (c) => {
    c.header("Content-Type", "text/css; charset=utf-8");
    c.header("Cache-Control", "public, max-age=3600");
    return c.body(STYLESHEET);
  });

  web.get("/favicon.ico", (c) => c.redirect("/static/icon.svg", 301));
  web.get("/static/icon.svg", (c) => {
    c.header("Content-Type", "image/svg+xml");
    c.header("Cache-Control", "public, max-age=86400");
    return c.body(ICON);
  });

  web.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      crossOriginEmbedderPolicy: false,
    }),
  );

  // Who is asking, which CSRF token their forms carry, and last request's notice.
  web.use("*", async (c, next) => {
    c.set("deps", deps);
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = cookie ? await sessionUser(deps.db, cookie) : undefined;
    c.set("session", session);
    let csrf = session?.csrfToken ?? getCookie(c, ANON_CSRF_COOKIE);
    if (!csrf) {
      csrf = randomBytes(18).toString("base64url");
      setCookie(c, ANON_CSRF_COOKIE, csrf, { httpOnly: true, sameSite: "Lax", secure, path: "/" });
    }
    c.set("csrf", csrf);
    const notice = readNotice(getCookie(c, NOTICE_COOKIE));
    c.set("notice", notice);
    if (notice && c.req.method === "GET") deleteCookie(c, NOTICE_COOKIE, { path: "/" });
    await next();
  });

  web.use("*", jsxRenderer(({ children, ...props }) => <Layout {...(props as import("./context.ts").PageProps)}>{children}</Layout>, { docType: true }));

  // Components do not query: the layout's one query (the header's unread
  // count) is made when a handler renders a page, before the page is built.
  web.use("*", async (c, next) => {
    const render = c.render;
    c.render = async (content, props) => {
      const session = c.get("session");
      c.set("unread", session ? await unreadCount(deps.db, session.user) : 0);
      return await render(content, props);
    };
    await next();
  });

  // Every state-changing request must echo the token of the form it came from.
  web.use("*", async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const type = c.req.header("content-type") ?? "";
    const isForm = type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data");
    const body = isForm ? await c.req.parseBody({ all: true }) : {};
    const sent = typeof body.csrf === "string" ? body.csrf : undefined;
    if (!sameToken(sent, c.get("csrf"))) {
      c.status(403);
      return c.render(
        <ErrorPage title="This form has expired" detail="The page you submitted from is out of date (or came from another site). Go back, reload the page and try again." />,
        { title: "Form expired" },
      );
    }
    return next();
  });


  web.route("/", accountPages());
  web.route("/", homePages());
  web.route("/", communityPages());
  web.route("/", directoryPages());
  web.route("/", followPages());
  web.route("/", policyPages());
  web.route("/", forkPages());
  web.route("/", bundlePages());
  web.route("/", preferencePages());
  web.route("/", participationPages());
  web.route("/", notificationPages());
  web.route("/", replyPages());
  web.route("/", glossaryPages());

  // Last of all the apps mounted on the server, so this is everyone's 404.
  web.all("*", (c) => {
    c.status(404);
    return c.render(<ErrorPage title="Not found" detail="There is no page at this address." />, { title: "Not found" });
  });

  web.onError((error, c: Context<WebEnv>) => {
    // A use case refused (no such policy, not a member, the peer did not answer): its status and message.
    if (error instanceof FedalignError) {
      c.status(error.status as 400);
      return c.render(<ErrorPage title={errorTitle(error.status)} detail={error.message} />, { title: errorTitle(error.status) });
    }
    logger.error("Unexpected web error: {error}", { error });
    c.status(500);
    return c.render(<ErrorPage title="Something went wrong" detail="The error was logged on the server. Try again, or tell the instance's admin." />, {
      title: "Error",
    });
  });
  return web;
}

function errorTitle(status: number): string {
  return status === 404 ? "Not found" : status === 403 ? "Not allowed" : status === 401 ? "Sign in first" : status === 409 ? "Conflict" : "Cannot do that";
}
