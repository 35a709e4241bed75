import { describe, expect, it } from 'vitest';
import { AccessControl } from '../../lambdas/access/policy-store.js';
import {
  EMPTY_POLICY,
  formatPolicy,
  grant,
  issueToken,
  parsePolicy,
  principalOfToken,
  revoke,
  scopeOf,
} from '../../lambdas/access/policy.js';
import { OPERATOR } from '../../lambdas/access/principal.js';
import { mayUse } from '../../lambdas/access/scope.js';
import { InvalidInputError } from '../../lambdas/domain/index.js';
import type { ArtifactStore } from '../../lambdas/ports/artifact-store.js';

const alice = { id: 'token:alice', groups: [] };

describe('the access policy', () => {
  it('lets everyone use every twin until a policy exists, and the operator always', () => {
    expect(scopeOf(undefined, alice)).toEqual({ kind: 'all' });
    expect(scopeOf(EMPTY_POLICY, OPERATOR)).toEqual({ kind: 'all' });
    expect(scopeOf(EMPTY_POLICY, alice)).toEqual({ kind: 'authors', names: [] });
  });

  it('gives a user its own authors and its groups\', and everything for "*"', () => {
    let policy = grant(EMPTY_POLICY, 'user:1234', ['Ada Lovelace']);
    policy = grant(policy, 'group:editors', ['Alan Turing', 'ada  lovelace']);
    const user = { id: 'user:1234', groups: ['editors', 'readers'] };
    expect(scopeOf(policy, user)).toEqual({ kind: 'authors', names: ['Ada Lovelace', 'Alan Turing'] });
    expect(scopeOf(grant(policy, 'group:readers', ['*']), user)).toEqual({ kind: 'all' });
  });

  it('compares names as people write them', () => {
    const scope = { kind: 'authors' as const, names: ['Maxime Labonne'] };
    expect(mayUse(scope, '  maxime   LABONNE ')).toBe(true);
    expect(mayUse(scope, 'Maxime')).toBe(false);
  });

  it('revokes authors, then the principal; refuses malformed principals', () => {
    const policy = grant(EMPTY_POLICY, 'api-key:abc123', ['Ada Lovelace', 'Alan Turing']);
    expect(revoke(policy, 'api-key:abc123', ['alan turing']).principals['api-key:abc123']?.authors).toEqual([
      'Ada Lovelace',
    ]);
    expect(revoke(policy, 'api-key:abc123', []).principals).toEqual({});
    expect(() => grant(EMPTY_POLICY, 'alice', ['Ada'])).toThrow(/not a principal/u);
    expect(() => revoke(EMPTY_POLICY, 'token:bob', [])).toThrow(/no access to revoke/u);
  });

  it('keeps only the hash of a token, and knows its principal by it', () => {
    const { policy, token } = issueToken(grant(EMPTY_POLICY, 'token:alice', ['Ada Lovelace']), 'token:alice');
    expect(formatPolicy(policy)).not.toContain(token);
    expect(principalOfToken(policy, token)).toEqual(alice);
    expect(principalOfToken(policy, `${token}x`)).toBeUndefined();
    expect(parsePolicy(formatPolicy(policy), 'policy.yaml')).toEqual(policy);
  });

  it('names the field of a broken policy file', () => {
    expect(() => parsePolicy('principals:\n  alice:\n    authors: [Ada]\n', 'access/policy.yaml')).toThrow(
      /access\/policy\.yaml: principals\.alice: not a principal: keys are token:<name>/u,
    );
  });

  it('reads the policy again once its cache has expired, so a grant applies without a restart', async () => {
    const files = new Map<string, string>();
    const store: ArtifactStore = {
      location: 'memory',
      exists: (key) => Promise.resolve(files.has(key)),
      write: (key, body) => Promise.resolve(void files.set(key, body)),
      read: (key) => Promise.resolve(files.get(key)),
      list: () => Promise.resolve([...files.keys()]),
    };
    let now = 0;
    const reader = new AccessControl(store, 30_000, () => now);
    const writer = new AccessControl(store, 0);
    await writer.save(grant(EMPTY_POLICY, 'token:alice', ['Ada Lovelace']));
    expect(await reader.scopeFor(alice)).toEqual({ kind: 'authors', names: ['Ada Lovelace'] });
    await writer.save(grant(EMPTY_POLICY, 'token:alice', ['Alan Turing']));
    now = 29_000;
    expect(await reader.scopeFor(alice)).toEqual({ kind: 'authors', names: ['Ada Lovelace'] });
    now = 31_000;
    expect(await reader.scopeFor(alice)).toEqual({ kind: 'authors', names: ['Alan Turing'] });
  });
});

describe('a broken access policy', () => {
  it("fails as a server error, never as the caller's 400", async () => {
    const store: ArtifactStore = {
      location: 'memory',
      exists: () => Promise.resolve(true),
      write: () => Promise.resolve(),
      read: () => Promise.resolve('principals:\n  alice: [oops\n'),
      list: () => Promise.resolve([]),
    };
    const failure = await new AccessControl(store).scopeFor(alice).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(InvalidInputError);
    expect((failure as Error).message).toMatch(
      /^the access policy cannot be used; fix it with twin access: /u,
    );
  });
});
