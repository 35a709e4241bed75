import type { ArtifactStore } from '../ports/artifact-store.js';
import type { Principal } from './principal.js';
import { formatPolicy, parsePolicy, principalOfToken, scopeOf, type AccessPolicy } from './policy.js';
import type { AuthorScope } from './scope.js';

/** Where the policy lives: a local folder, or the artifact bucket on AWS. */
export const ACCESS_POLICY_KEY = 'access/policy.yaml';

/** How long a read policy is used before it is read again: changes apply without a restart. */
export const ACCESS_POLICY_TTL_MS = 30_000;

/**
 * The access policy, read from the artifact store and kept for a short while. A policy that cannot
 * be read or parsed fails the request (500): access is never widened because a file is broken.
 */
export class AccessControl {
  private cached: { policy: AccessPolicy | undefined; until: number } | undefined;

  constructor(
    private readonly store: ArtifactStore,
    private readonly ttlMs = ACCESS_POLICY_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async scopeFor(principal: Principal): Promise<AuthorScope> {
    return scopeOf(await this.policy(), principal);
  }

  async principalOfToken(token: string): Promise<Principal | undefined> {
    return principalOfToken(await this.policy(), token);
  }

  async policy(): Promise<AccessPolicy | undefined> {
    if (this.cached && this.cached.until > this.now()) return this.cached.policy;
    const text = await this.store.read(ACCESS_POLICY_KEY);
    const policy = text === undefined ? undefined : this.parse(text);
    this.cached = { policy, until: this.now() + this.ttlMs };
    return policy;
  }

  /**
   * A broken policy is the deployment's fault, not the caller's: it fails as a server error (500,
   * logged), never as a 400 that would show the file's contents to whoever asked.
   */
  private parse(text: string): AccessPolicy {
    try {
      return parsePolicy(text, `${this.store.location}/${ACCESS_POLICY_KEY}`);
    } catch (error) {
      throw new Error(
        `the access policy cannot be used; fix it with twin access: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  async save(policy: AccessPolicy): Promise<void> {
    await this.store.write(ACCESS_POLICY_KEY, formatPolicy(policy));
    this.cached = undefined;
  }
}
