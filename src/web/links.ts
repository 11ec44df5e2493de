/**
 * Where the web pages live, in one place so every page links the same way.
 * Policies (local, forked or followed from elsewhere) are addressed by their
 * row id on this instance; a local policy's IRI shows the same page.
 */
export const links = {
  home: () => "/",
  feed: () => "/feed",
  notifications: () => "/notifications",
  annotationReply: (iri: string) => `/reply?to=${encodeURIComponent(iri)}`,
  follow: () => "/follow",
  offers: () => "/offers",
  bundle: () => "/bundle",
  settings: () => "/settings",
  admin: () => "/admin",
  glossary: (term?: string) => (term ? `/glossary#${term}` : "/glossary"),
  newCommunity: () => "/communities/new",
  directory: (query?: { q?: string; page?: number }) => {
    const params = new URLSearchParams();
    if (query?.q) params.set("q", query.q);
    if (query?.page && query.page > 1) params.set("page", String(query.page));
    const search = params.toString();
    return search ? `/communities?${search}` : "/communities";
  },
  remoteActor: (id: number) => `/remote-actors/${id}`,
  joinRequests: (handle: string) => `/actors/${handle}/requests`,
  community: (handle: string) => `/actors/${handle}`,
  newPolicy: (handle: string) => `/actors/${handle}/policies/new`,
  communityTasks: (handle: string) => `/actors/${handle}/tasks`,
  communityStatements: (handle: string) => `/actors/${handle}/statements`,
  communityOpinions: (handle: string) => `/actors/${handle}/opinions`,
  decisionRules: (handle: string) => `/actors/${handle}/decision-rules`,
  policy: (id: number, version?: number) => (version === undefined ? `/policies/${id}` : `/policies/${id}?version=${version}`),
  /** A clause of the newest version, or of version `version` (a pinned address that never changes). */
  clause: (id: number, clauseId: string, version?: number) =>
    version === undefined ? `/policies/${id}/clauses/${encodeURIComponent(clauseId)}` : `/policies/${id}/versions/${version}/clauses/${encodeURIComponent(clauseId)}`,
  policySearch: (id: number, q?: string) => (q === undefined ? `/policies/${id}/search` : `/policies/${id}/search?q=${encodeURIComponent(q)}`),
  search: (q?: string) => (q === undefined ? "/search" : `/search?q=${encodeURIComponent(q)}`),
  policyDraft: (id: number) => `/policies/${id}/draft`,
  policyDiff: (id: number, from?: number, to?: number) =>
    from === undefined || to === undefined ? `/policies/${id}/diff` : `/policies/${id}/diff?from=${from}&to=${to}`,
  policyFork: (id: number) => `/policies/${id}/fork`,
  policyMerge: (id: number) => `/policies/${id}/merge`,
  policyNewOffer: (id: number) => `/policies/${id}/offers/new`,
  policyProposals: (id: number) => `/policies/${id}/proposals`,
  newProposal: (id: number) => `/policies/${id}/proposals/new`,
  /** The builder with a clause's current text in the editor ("new" for an empty one): what a clause page links to as "Propose a change". */
  proposeClauseChange: (id: number, clauseId: string) => `/policies/${id}/proposals/new?clause=${encodeURIComponent(clauseId)}#editor`,
  proposalPreview: (id: number) => `/policies/${id}/proposals/new/preview`,
  proposal: (id: number) => `/proposals/${id}`,
  task: (id: number) => `/tasks/${id}`,
  taskResults: (id: number) => `/tasks/${id}/results`,
};
