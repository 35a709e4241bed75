import type {
  CollectionSpec,
  FusedPoint,
  HybridQuery,
  HybridSearchOptions,
  Point,
  PointFilter,
  ScoredPoint,
  ScrollOptions,
  SearchOptions,
  VectorStore,
} from '../../ports/vector-store.js';

/**
 * A namespace in a shared vector database: every collection name gets a prefix
 * (TWIN_COLLECTION_PREFIX), so several feature stores (stages, a scratch evaluation) live side by
 * side in one Qdrant without seeing each other.
 */
export class PrefixedVectorStore implements VectorStore {
  constructor(
    private readonly store: VectorStore,
    private readonly prefix: string,
  ) {}

  private name(collection: string): string {
    return `${this.prefix}${collection}`;
  }

  ensureCollection(spec: CollectionSpec): Promise<void> {
    return this.store.ensureCollection({ ...spec, name: this.name(spec.name) });
  }
  upsert(collection: string, points: readonly Point[]): Promise<void> {
    return this.store.upsert(this.name(collection), points);
  }
  search(collection: string, vector: readonly number[], options: SearchOptions): Promise<ScoredPoint[]> {
    return this.store.search(this.name(collection), vector, options);
  }
  searchText(collection: string, terms: readonly string[], options: SearchOptions): Promise<ScoredPoint[]> {
    return this.store.searchText(this.name(collection), terms, options);
  }
  searchHybrid(collection: string, query: HybridQuery, options: HybridSearchOptions): Promise<FusedPoint[]> {
    return this.store.searchHybrid(this.name(collection), query, options);
  }
  hasLexicalIndex(collection: string): Promise<boolean> {
    return this.store.hasLexicalIndex(this.name(collection));
  }
  refreshIndexes(collection: string): Promise<void> {
    return this.store.refreshIndexes(this.name(collection));
  }
  deleteCollection(collection: string): Promise<void> {
    return this.store.deleteCollection(this.name(collection));
  }
  scroll(collection: string, options?: ScrollOptions): AsyncIterable<Point> {
    return this.store.scroll(this.name(collection), options);
  }
  deletePoints(collection: string, ids: readonly string[]): Promise<void> {
    return this.store.deletePoints(this.name(collection), ids);
  }
  count(collection: string, filter?: PointFilter): Promise<number> {
    return this.store.count(this.name(collection), filter);
  }
  close(): Promise<void> {
    return this.store.close();
  }
}
