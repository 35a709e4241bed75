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
}

export interface ScoredPoint {
  id: string;
  payload: IndexedPayload;
  /** Cosine similarity, higher is closer. */
  score: number;
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
  /** Every matching point, fetched page by page (no vectors). */
  scroll(collection: string, options?: ScrollOptions): AsyncIterable<Point>;
  deletePoints(collection: string, ids: readonly string[]): Promise<void>;
  count(collection: string, filter?: PointFilter): Promise<number>;
  close(): Promise<void>;
}
