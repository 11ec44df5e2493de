/**
 * What every use case receives: the instance's database, its origin, its
 * clock, and a port to the federation layer for the few things a use case
 * needs from it before it can commit (signing a document as a community,
 * looking up a remote actor). The port is an interface implemented in
 * federation/app-port.ts, so this layer never imports Fedify and tests can
 * pass their own.
 */
import type { Db } from "../../db/client.ts";
import type { DocumentSigner } from "../policies/publish.ts";
import type { Clock } from "./clock.ts";

export interface FederationPort {
  /** The IRI of a local actor (user or community). */
  actorIri(identifier: string): string;
  /** The IRI of a local actor's followers collection. */
  followersIri(identifier: string): string;
  /** Signs documents as a local actor. */
  signerFor(identifier: string): DocumentSigner;
}

export interface AppContext {
  db: Db;
  /** e.g. "https://align.example"; IRIs of local objects start with it. */
  origin: string;
  clock: Clock;
  federation: FederationPort;
}
