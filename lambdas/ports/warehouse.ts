import type { Category, DocumentOf, PersonName, RawDocument, User } from '../domain/index.js';

export interface InsertReport {
  inserted: number;
  /** Documents left out because their id or their link (within the category) is already stored. */
  skipped: number;
}

export interface DocumentQuery<C extends Category = Category> {
  category: C;
  /** Only documents of these authors; all authors when absent. */
  authorIds?: readonly string[];
  /** Only the documents with these ids (a batch planned earlier); unknown ids are ignored. */
  ids?: readonly string[];
}

export interface CategoryStats {
  total: number;
  byAuthor: Record<string, number>;
}

export interface WarehouseStats {
  users: number;
  categories: Record<Category, CategoryStats>;
}

/**
 * The data warehouse: users and the raw documents crawled for them, one collection per category.
 * Adapters: MongoDB (cloud) and an embedded SQLite file (local default). Both pass test/contract.
 */
export interface Warehouse {
  /**
   * Returns the user with this name, creating it when absent. Safe under concurrency: racing calls for
   * one name return the same user. `idForNewUser` is used only when the user has to be created.
   */
  getOrCreateUser(name: PersonName, idForNewUser?: string): Promise<User>;
  findUserByName(name: PersonName): Promise<User | undefined>;
  findUserById(id: string): Promise<User | undefined>;
  /** All users, in the order they were created. */
  listUsers(): Promise<User[]>;

  /** Stores new documents; those whose id or link is already stored are skipped, never overwritten. */
  insertDocuments(documents: readonly RawDocument[]): Promise<InsertReport>;
  hasLink(category: Category, link: string): Promise<boolean>;
  findDocumentsByAuthor<C extends Category>(category: C, authorId: string): Promise<DocumentOf<C>[]>;
  /** Streams matching documents in insertion order without loading them all into memory. */
  streamDocuments<C extends Category>(query: DocumentQuery<C>): AsyncIterable<DocumentOf<C>>;

  stats(): Promise<WarehouseStats>;
  close(): Promise<void>;
}

/** The warehouse as readers of its authors see it: finding authors, never creating one. */
export type AuthorDirectory = Pick<Warehouse, 'findUserByName' | 'findUserById' | 'listUsers'>;
