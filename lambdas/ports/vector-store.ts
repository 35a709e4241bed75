import type { Fusion } from '../domain/index.js';

/** Payload fields the stores index and filter on; every point carries both. */
export interface IndexedPayload {
  author_id: string;
  document_id: string;
  [field: string]: unknown;
}

export interface Point {
  /** A UUID. */
  id: string;
  payload: IndexedPayload;
  /** Absent in payload-only collections. */
  vector?: number[];
  /**
   * The point's text as index terms (features/lexical-terms.ts), repeats kept: what keyword search
   * matches in a collection created with `lexical`. Not returned by reads.
   */
  terms?: readonly string[];
}

export interface ScoredPoint {
  id: string;
  payload: IndexedPayload;
  /** Higher is better: cosine similarity, BM25 relevance, or the fused score, by the search asked. */
  score: number;
}

/** A point found by hybrid search. */
export interface FusedPoint extends ScoredPoint {
  /**
   * Its 1-based rank in the dense and the lexical list, where the store reports them (a store that
   * fuses server-side reports only the fused score); absent from a list: not in its top `depth`.
   */
  ranks?: { dense?: number; lexical?: number };
}

/** Conditions combine with AND; a list matches any of its values. */
export interface PointFilter {
  authorIds?: readonly string[];
  documentIds?: readonly string[];
}

export interface CollectionSpec {
  name: string;
  /** Vector dimension (cosine distance); absent for a payload-only collection. */
  vectorSize?: number;
  /** Keeps a lexical (BM25) index over the points' `terms`, for keyword and hybrid search. */
  lexical?: boolean;
}

export interface ScrollOptions {
  filter?: PointFilter;
  /** Points fetched per round trip. */
  pageSize?: number;
}

export interface SearchOptions {
  limit: number;
  filter?: PointFilter;
}

export interface HybridQuery {
  vector: readonly number[];
  terms: readonly string[];
}

export interface HybridSearchOptions extends SearchOptions {
  /**
   * Reciprocal rank fusion (a point scores the sum over both lists of 1 / (k + rank)), or the convex
   * combination of both lists' per-query min-max normalised scores, alpha * dense + (1 - alpha) * keyword.
   */
  fusion: Fusion;
  /** How many points each list contributes before fusion (at least `limit`). */
  depth: number;
}

/**
 * A vector database holding the logical feature store. Adapters: Qdrant (cloud) and LanceDB (embedded
 * local default); both pass test/contract/vector-store.contract.test.ts. Reading a collection that was
 * never created finds nothing rather than failing.
 */
export interface VectorStore {
  /** Creates the collection (with its payload indexes) if absent; a no-op when it exists. */
  ensureCollection(spec: CollectionSpec): Promise<void>;
  /** Inserts or replaces points by id. */
  upsert(collection: string, points: readonly Point[]): Promise<void>;
  /** The `limit` closest points by cosine similarity, best first. */
  search(collection: string, vector: readonly number[], options: SearchOptions): Promise<ScoredPoint[]>;
  /**
   * Keyword search in a lexical collection: the `limit` points whose terms best match the query
   * terms by BM25, best first; points sharing no term with the query are not returned.
   */
  searchText(collection: string, terms: readonly string[], options: SearchOptions): Promise<ScoredPoint[]>;
  /**
   * Dense and lexical search at once, fused as `options.fusion` says (with the same filter on both lists):
   * the `limit` best points by fused score, best first.
   */
  searchHybrid(collection: string, query: HybridQuery, options: HybridSearchOptions): Promise<FusedPoint[]>;
  /**
   * Whether the collection keeps a lexical index; false for a collection created before lexical
   * search existed (or never created).
   */
  hasLexicalIndex(collection: string): Promise<boolean>;
  /**
   * Brings the lexical index up to date with the writes so far (a store that indexes on write does
   * nothing). Writers call it once after a batch of writes; readers never need to.
   */
  refreshIndexes(collection: string): Promise<void>;
  /** Removes the collection and its points; a no-op when it does not exist. */
  deleteCollection(collection: string): Promise<void>;
  /** Every matching point, fetched page by page (no vectors). */
  scroll(collection: string, options?: ScrollOptions): AsyncIterable<Point>;
  deletePoints(collection: string, ids: readonly string[]): Promise<void>;
  count(collection: string, filter?: PointFilter): Promise<number>;
  close(): Promise<void>;
}
