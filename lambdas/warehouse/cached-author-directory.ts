import type { PersonName, User } from '../domain/index.js';
import type { AuthorDirectory } from '../ports/warehouse.js';

/** How long the authors read from the warehouse are used before they are read again. */
export const AUTHOR_CACHE_TTL_MS = 30_000;

/**
 * The warehouse's authors, read once and kept for a short while (as the access policy is): matching
 * the names in a request, and the scoped directory built on it, then cost no query per request.
 * A name or id that the kept list lacks is asked of the warehouse, so an author added since is found
 * at once (and the list is read again next time); in a process that also collects and featurises
 * (`twin serve`), those runs call `invalidate()`. Elsewhere (the RAG function on AWS, whose
 * collection runs are other functions) a new author appears in name matching within the TTL.
 */
export class CachedAuthorDirectory implements AuthorDirectory {
  private cached: { users: Promise<readonly User[]>; until: number } | undefined;

  constructor(
    private readonly directory: AuthorDirectory,
    private readonly ttlMs = AUTHOR_CACHE_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async listUsers(): Promise<User[]> {
    return [...(await this.users())];
  }

  async findUserByName(name: PersonName): Promise<User | undefined> {
    const known = (await this.users()).find(
      (user) => user.firstName === name.firstName && user.lastName === name.lastName,
    );
    return known ?? this.lookUpMissing(() => this.directory.findUserByName(name));
  }

  async findUserById(id: string): Promise<User | undefined> {
    const known = (await this.users()).find((user) => user.id === id);
    return known ?? this.lookUpMissing(() => this.directory.findUserById(id));
  }

  /** Forgets the kept authors: the next read goes to the warehouse. */
  invalidate(): void {
    this.cached = undefined;
  }

  /** One read shared by concurrent requests; a failed read is not kept. */
  private users(): Promise<readonly User[]> {
    if (this.cached && this.cached.until > this.now()) return this.cached.users;
    const users = this.directory.listUsers();
    const entry = { users, until: this.now() + this.ttlMs };
    this.cached = entry;
    users.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return users;
  }

  private async lookUpMissing(lookUp: () => Promise<User | undefined>): Promise<User | undefined> {
    const user = await lookUp();
    if (user) this.invalidate();
    return user;
  }
}
