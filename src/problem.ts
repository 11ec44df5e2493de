/** RFC 9457 problem details: every API error has a title and an actionable detail. */
export function problem(status: number, title: string, detail: string, extra: Record<string, unknown> = {}): Response {
  return new Response(JSON.stringify({ type: "about:blank", title, status, detail, ...extra }), {
    status,
    headers: { "Content-Type": "application/problem+json; charset=utf-8" },
  });
}
