import { foldForMatching, fullNameOf, type User } from '../domain/index.js';
import type { AuthorDirectory } from '../ports/warehouse.js';
import { OPERATOR, type Principal } from './principal.js';

/** The authors a principal may use: every one (an operator), or these names (possibly none). */
export type AuthorScope = { kind: 'all' } | { kind: 'authors'; names: readonly string[] };

export const ALL_AUTHORS: AuthorScope = { kind: 'all' };

/** What the HTTP APIs ask of access control (AccessControl answers it from the policy). */
export interface ScopeResolver {
  scopeFor(principal: Principal): Promise<AuthorScope>;
}

/** A request's scope: its principal's (the operator's when none is set), every author without access control. */
export function scopeOfRequest(
  access: ScopeResolver | undefined,
  principal: Principal | undefined,
): Promise<AuthorScope> {
  return access ? access.scopeFor(principal ?? OPERATOR) : Promise.resolve(ALL_AUTHORS);
}

/** Names compare as people write them: case, accents, spacing and possessives do not matter. */
export function mayUse(scope: AuthorScope, authorName: string): boolean {
  if (scope.kind === 'all') return true;
  const folded = foldForMatching(authorName);
  return scope.names.some((name) => foldForMatching(name) === folded);
}

/**
 * Refused because the author is outside the caller's scope, or unknown: the two are answered alike
 * (403, the same words), so that nobody can learn which other authors exist.
 */
export class AuthorNotAllowedError extends Error {
  constructor() {
    super('that author is not one of the twins you may use');
    this.name = 'AuthorNotAllowedError';
  }
}

/**
 * The warehouse's authors as a scoped principal sees them: only those in scope exist. Self-query and
 * name matching run against this, so another author's name is simply unknown.
 */
export function scopedDirectory(directory: AuthorDirectory, scope: AuthorScope): AuthorDirectory {
  if (scope.kind === 'all') return directory;
  const visible = (user: User | undefined) => (user && mayUse(scope, fullNameOf(user)) ? user : undefined);
  return {
    findUserByName: async (name) => visible(await directory.findUserByName(name)),
    findUserById: async (id) => visible(await directory.findUserById(id)),
    listUsers: async () => (await directory.listUsers()).filter((user) => mayUse(scope, fullNameOf(user))),
  };
}
