/**
 * Where local actors live: users and communities are both actors at
 * /actors/{identifier} (federation/federation.ts routes the same path), and
 * their fediverse handle is @identifier@host. The one builder of these;
 * policy IRIs nest under a community's (src/policies/iris.ts).
 */
export function actorIri(origin: string, identifier: string): string {
  return new URL(`/actors/${identifier}`, origin).href;
}

export function fediverseHandle(origin: string, identifier: string): string {
  return `@${identifier}@${new URL(origin).host}`;
}

/** The identifier of a local actor from its IRI, or undefined when the IRI is not one of this instance's actors. */
export function localActorIdentifier(origin: string, iri: string): string | undefined {
  const prefix = new URL("/actors/", origin).href;
  return iri.startsWith(prefix) ? iri.slice(prefix.length) : undefined;
}
