/**
 * The signed-in person's notifications: newest first, 20 a page, all or
 * only unread ones, each marked read by a button (a POST; looking at the
 * page marks nothing read), or all at once. The unread count is in the
 * header of every page (../layout.tsx).
 */
import { Hono, type Context } from "hono";
import { listNotifications, markNotificationsRead, MarkReadInput, NotificationsQuery, type NotificationView } from "../../app/notifications.ts";
import { CsrfField, DateTime, NEWER_OLDER, Pager } from "../components.tsx";
import type { WebEnv } from "../context.ts";
import { formFields, redirectWithNotice, safeNext, signInPath, submitForm } from "../forms.ts";
import { links } from "../links.ts";
import { safeHref } from "../community-components.tsx";

const KIND_LABELS: Record<NotificationView["kind"], string> = {
  "annotation.replied": "Reply",
  "offer.accepted": "Offer accepted",
  "offer.rejected": "Offer rejected",
  "proposal.opened": "Proposal opened",
  "proposal.closed": "Proposal closed",
  "version.published": "New version",
  "follow.requested": "Follow request",
  "join.requested": "Request to join",
  "join.decided": "Request to join answered",
};

function pageHref(page: number, unread: boolean): string {
  const params = new URLSearchParams();
  if (unread) params.set("unread", "true");
  if (page > 1) params.set("page", String(page));
  const query = params.toString();
  return query ? `${links.notifications()}?${query}` : links.notifications();
}

function NotificationItem(props: { item: NotificationView; back: string }) {
  const { item } = props;
  return (
    <li class={`notification${item.read ? "" : " notification-unread"}`}>
      <p>
        {item.read ? null : <span class="tag tag-new">New</span>}
        <span class="tag">{KIND_LABELS[item.kind]}</span> <DateTime value={item.createdAt} />
      </p>
      <p class="notification-text">
        <a href={safeHref(item.url) ?? "#"}>{item.text}</a>
      </p>
      {item.read ? null : (
        <form method="post" action={`${links.notifications()}/read`} class="inline">
          <CsrfField />
          <input type="hidden" name="id" value={String(item.id)} />
          <input type="hidden" name="back" value={props.back} />
          <button type="submit" class="secondary small">
            Mark read<span class="visually-hidden">: {item.text}</span>
          </button>
        </form>
      )}
    </li>
  );
}

function NotificationsPage(props: { page: number; unreadOnly: boolean; data: Awaited<ReturnType<typeof listNotifications>> }) {
  const { page, unreadOnly, data } = props;
  const back = pageHref(page, unreadOnly);
  return (
    <>
      <h1>Notifications</h1>
      <p>
        {data.unread === 0 ? "Nothing unread." : `${data.unread} unread.`} Replies to your annotations, decisions on your
        communities' offers, proposals in your communities, new versions of what you follow and follow requests to answer.
      </p>
      <nav aria-label="Which notifications">
        <ul class="link-row">
          <li>{unreadOnly ? <a href={pageHref(1, false)}>All</a> : <strong aria-current="page">All</strong>}</li>
          <li>{unreadOnly ? <strong aria-current="page">Unread only</strong> : <a href={pageHref(1, true)}>Unread only</a>}</li>
        </ul>
      </nav>
      {data.unread > 0 ? (
        <form method="post" action={`${links.notifications()}/read`}>
          <CsrfField />
          <input type="hidden" name="all" value="true" />
          <input type="hidden" name="back" value={back} />
          <button type="submit">Mark all read</button>
        </form>
      ) : null}
      {data.items.length === 0 ? (
        <p>{page > 1 ? "There is nothing older." : unreadOnly ? "You have read everything." : "Nothing has happened yet."}</p>
      ) : (
        <ul class="notifications" aria-label="Notifications">
          {data.items.map((item) => (
            <NotificationItem item={item} back={back} />
          ))}
        </ul>
      )}
      <Pager page={page} more={data.more} label="Notification pages" words={NEWER_OLDER} href={(to) => pageHref(to, unreadOnly)} />
    </>
  );
}

export function notificationPages() {
  const pages = new Hono<WebEnv>();

  pages.get("/notifications", async (c) => {
    const session = c.get("session");
    if (!session) return c.redirect(signInPath(c), 303);
    const query = NotificationsQuery.safeParse({ page: c.req.query("page"), unread: c.req.query("unread") });
    const input = query.success ? query.data : {};
    const data = await listNotifications(c.get("deps").context, session.user, input);
    return c.render(<NotificationsPage page={data.page} unreadOnly={input.unread === "true"} data={data} />, { title: "Notifications" });
  });

  pages.post("/notifications/read", async (c: Context<WebEnv>) => {
    const fields = await formFields(c);
    const back = safeNext(fields.back) ?? links.notifications();
    if (!c.get("session")) return c.redirect(signInPath(c), 303);
    const input = fields.all === "true" ? { all: true } : { ids: [Number(fields.id)] };
    const result = await submitForm(MarkReadInput, input, async (data) => await markNotificationsRead(c.get("deps").context, c.get("session")?.user, data));
    if (!result.ok) return redirectWithNotice(c, back, result.problem.detail, "error");
    const text = fields.all === "true" ? `Marked ${result.data.marked} read.` : "Marked read.";
    return redirectWithNotice(c, back, text);
  });

  return pages;
}
