/**
 * What every web page handler can reach: the instance, the signed-in user
 * (if any), the CSRF token its forms must echo, and a one-shot notice left by
 * the previous request. Set by the middleware in ./web.ts.
 */
import type { Db } from "../../db/client.ts";
import type { User } from "../accounts/users.ts";
import type { AppContext } from "../app/context.ts";

export interface WebDeps {
  db: Db;
  origin: string;
  /** The host name shown on every page. */
  instanceName: string;
  /** What use cases (src/app/) run with; pages call use cases directly. */
  context: AppContext;
}

export interface WebSession {
  user: User;
  csrfToken: string;
}

export interface Notice {
  kind: "success" | "error";
  text: string;
  /**
   * The id of the element the notice is about (a clause's block, a form):
   * the page shows it there (NoticeHere) instead of at the top, and opens
   * scrolled to it, so the reader keeps their place.
   */
  near?: string;
}

export type WebEnv = {
  Variables: {
    session: WebSession | undefined;
    /** The token this request's forms must send back as the `csrf` field. */
    csrf: string;
    notice: Notice | undefined;
    deps: WebDeps;
    /** The signed-in person's unread notifications, set when a page is rendered (web.tsx). */
    unread: number | undefined;
  };
};

/** The community a page is about, shown in the header beside the instance's name. */
export interface PageCommunity {
  name: string;
  handle: string;
  /** Where the community's page is (local or a remote actor's IRI). */
  href: string;
}

export interface PageProps {
  title: string;
  community?: PageCommunity;
}
