import { createHash, randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { z } from 'zod';
import { parseYamlInput } from '../shared/yaml-input.js';
import { InvalidInputError, foldForMatching } from '../domain/index.js';
import type { Principal } from './principal.js';
import { ALL_AUTHORS, type AuthorScope } from './scope.js';

/** `token:<name>`, `api-key:<id>`, `user:<sub>` or `group:<name>`. */
export const PRINCIPAL_ID = /^(token|api-key|user|group):[\w.@+-]{1,128}$/u;

const EntrySchema = z.strictObject({
  /** Author names ("First Last"), or "*" for every author. */
  authors: z.array(z.string().trim().min(1).max(200)).max(1000),
  /** For `token:` principals: the SHA-256 of their token (the token itself is never stored). */
  token_sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/u, 'must be a SHA-256 in hex')
    .optional(),
});

export const AccessPolicySchema = z.strictObject({
  principals: z.record(z.string().regex(PRINCIPAL_ID), EntrySchema, {
    error: (issue) =>
      issue.code === 'invalid_key'
        ? 'not a principal: keys are token:<name>, api-key:<id>, user:<sub> or group:<name>'
        : undefined,
  }),
});
export type AccessPolicy = z.infer<typeof AccessPolicySchema>;

export const EMPTY_POLICY: AccessPolicy = { principals: {} };

/**
 * The authors a principal may use under a policy. The operator may use every author; so may everyone
 * while no policy exists (a deployment with one user). Once a policy exists, a principal gets the
 * union of its own entry and its groups' entries, and nothing when it has none.
 */
export function scopeOf(policy: AccessPolicy | undefined, principal: Principal): AuthorScope {
  if (principal.id === 'operator' || !policy) return ALL_AUTHORS;
  const entries = [principal.id, ...principal.groups.map((group) => `group:${group}`)]
    .map((id) => policy.principals[id])
    .filter((entry) => entry !== undefined);
  const names = entries.flatMap((entry) => entry.authors);
  if (names.includes('*')) return ALL_AUTHORS;
  const distinct = new Map<string, string>();
  for (const name of names)
    if (!distinct.has(foldForMatching(name))) distinct.set(foldForMatching(name), name);
  return { kind: 'authors', names: [...distinct.values()] };
}

export function parsePolicy(text: string, source: string): AccessPolicy {
  return parseYamlInput(text, source, AccessPolicySchema, 'access', EMPTY_POLICY);
}

export function formatPolicy(policy: AccessPolicy): string {
  return `# Who may use which twins: managed with twin access grant|revoke|token|list.\n# Changes apply within a minute, without a restart or a redeploy.\n${stringify(policy)}`;
}

function checkedPrincipal(id: string): string {
  if (!PRINCIPAL_ID.test(id))
    throw new InvalidInputError(
      `"${id}" is not a principal: use token:<name>, api-key:<id>, user:<sub> or group:<name>`,
      'principal',
    );
  return id;
}

/** Adds authors (or "*") to a principal's entry, creating it. */
export function grant(policy: AccessPolicy, principal: string, authors: readonly string[]): AccessPolicy {
  const id = checkedPrincipal(principal);
  const entry = policy.principals[id] ?? { authors: [] };
  const merged = [...entry.authors];
  for (const author of authors.map((name) => name.trim().replace(/\s+/gu, ' '))) {
    if (!merged.some((known) => known.toLowerCase() === author.toLowerCase())) merged.push(author);
  }
  return { principals: { ...policy.principals, [id]: { ...entry, authors: merged } } };
}

/** Removes authors from a principal's entry; without authors, removes the principal (and its token). */
export function revoke(policy: AccessPolicy, principal: string, authors: readonly string[]): AccessPolicy {
  const id = checkedPrincipal(principal);
  const { [id]: entry, ...others } = policy.principals;
  if (!entry) throw new InvalidInputError(`${id} has no access to revoke`, 'principal');
  if (authors.length === 0) return { principals: others };
  const removed = new Set(authors.map((name) => name.trim().toLowerCase()));
  return {
    principals: {
      ...others,
      [id]: { ...entry, authors: entry.authors.filter((name) => !removed.has(name.toLowerCase())) },
    },
  };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new token for a `token:` principal: returned once, only its hash is kept in the policy. */
export function issueToken(policy: AccessPolicy, principal: string): { policy: AccessPolicy; token: string } {
  const id = checkedPrincipal(principal);
  if (!id.startsWith('token:'))
    throw new InvalidInputError('tokens are for token:<name> principals', 'principal');
  const token = `twin_${randomBytes(24).toString('base64url')}`;
  const entry = policy.principals[id] ?? { authors: [] };
  return {
    policy: { principals: { ...policy.principals, [id]: { ...entry, token_sha256: hashToken(token) } } },
    token,
  };
}

/** The `token:` principal a presented token belongs to, if any. */
export function principalOfToken(policy: AccessPolicy | undefined, token: string): Principal | undefined {
  if (!policy) return undefined;
  const hash = hashToken(token);
  const found = Object.entries(policy.principals).find(([, entry]) => entry.token_sha256 === hash);
  return found ? { id: found[0], groups: [] } : undefined;
}
