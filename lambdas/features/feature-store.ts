import {
  CATEGORIES,
  FEATURE_COLLECTIONS,
  FEATURE_LAYOUT,
  chunkToPayload,
  cleanedFromPayload,
  cleanedToPayload,
  collectionName,
  scoredChunkFromPayload,
  type Category,
  type CleanedDocument,
  type EmbeddedChunk,
  type EmbeddingModelInfo,
  type Fusion,
  type ScoredChunk,
  type Snapshot,
} from '../domain/index.js';
import type { PointFilter, ScoredPoint, VectorStore } from '../ports/vector-store.js';
import { DEFAULT_LEXICAL_INDEXING, lexicalTerms, type LexicalIndexing } from './lexical-terms.js';

/**
 * What keyword search matches a chunk by: its text, and its document's title or repository name,
 * which say what the whole document is about (a field the chunk's own words often lack, as BM25F
 * and "contextual chunk headers" both rely on).
 */
export function chunkTerms(
  chunk: Pick<EmbeddedChunk, 'content' | 'title' | 'name'>,
  indexing: LexicalIndexing = DEFAULT_LEXICAL_INDEXING,
): string[] {
  const heading = indexing.titles ? (chunk.title ?? chunk.name) : undefined;
  return lexicalTerms(heading ? `${heading}\n${chunk.content}` : chunk.content, indexing.stemming);
}

export type FeatureCounts = Record<Snapshot, Record<Category, number>>;

/** A chunk search: the query embedded (dense, hybrid) and as terms (lexical, hybrid). */
export type ChunkQuery =
  | { mode: 'dense'; vector: readonly number[] }
  | { mode: 'lexical'; terms: readonly string[] }
  | {
      mode: 'hybrid';
      vector: readonly number[];
      terms: readonly string[];
      /** How the dense and the keyword list are fused. */
      fusion: Fusion;
      /** Chunks each list contributes before fusion. */
      depth: number;
    };

/**
 * The logical feature store over any vector database: the cleaned snapshot (one payload-only point
 * per document, keyed by the document id) and the embedded snapshot (one vector per chunk).
 */
export class FeatureStore {
  /**
   * `model` sizes the embedded collections; readers of the cleaned snapshot need none. `indexing`
   * other than the default is for evaluations in scratch stores only.
   */
  constructor(
    private readonly store: VectorStore,
    readonly model?: EmbeddingModelInfo,
    private readonly indexing: LexicalIndexing = DEFAULT_LEXICAL_INDEXING,
  ) {}

  /** A query's keyword terms, made the way this store's chunks were indexed. */
  queryTerms(text: string): string[] {
    return lexicalTerms(text, this.indexing.stemming);
  }

  async ensureCollections(): Promise<void> {
    const { model } = this;
    if (!model) throw new Error('creating the feature collections needs the embedding model (its dimension)');
    for (const { snapshot, category } of FEATURE_COLLECTIONS) {
      await this.store.ensureCollection({
        name: collectionName(snapshot, category),
        ...(snapshot === 'embedded' ? { vectorSize: model.size, lexical: true } : {}),
      });
    }
  }

  /** Removes every feature collection (a full rebuild follows). */
  async dropCollections(): Promise<void> {
    for (const { snapshot, category } of FEATURE_COLLECTIONS) {
      await this.store.deleteCollection(collectionName(snapshot, category));
    }
  }

  /**
   * Content hash of every stored cleaned document that matches, by document id. A document stored
   * in an older layout is left out: its features are incomplete, so it is processed again.
   */
  async storedHashes(category: Category, filter: PointFilter = {}): Promise<Map<string, string>> {
    const hashes = new Map<string, string>();
    for await (const point of this.store.scroll(collectionName('cleaned', category), { filter })) {
      const hash = point.payload.content_hash;
      const layout = point.payload.layout ?? 1;
      if (typeof hash === 'string' && layout === FEATURE_LAYOUT) hashes.set(point.payload.document_id, hash);
    }
    return hashes;
  }

  /** Whether the category's chunks can be searched by keyword. */
  hasLexicalIndex(category: Category): Promise<boolean> {
    return this.store.hasLexicalIndex(collectionName('embedded', category));
  }

  /** Folds the chunks written since into the keyword index (or builds it). */
  refreshLexicalIndex(category: Category): Promise<void> {
    return this.store.refreshIndexes(collectionName('embedded', category));
  }

  async *cleanedDocuments(category: Category, filter: PointFilter = {}): AsyncIterable<CleanedDocument> {
    for await (const point of this.store.scroll(collectionName('cleaned', category), { filter })) {
      yield cleanedFromPayload(point.payload);
    }
  }

  /**
   * Makes each document's `chunks` its only chunks, a batch of documents at a time (one write, one
   * scan, one delete, whatever the batch's size): new chunks are written first, then the ones the new
   * texts no longer have are removed, so a reader never finds a document without chunks.
   */
  async replaceChunks(
    category: Category,
    documents: readonly { documentId: string; chunks: readonly EmbeddedChunk[] }[],
  ): Promise<void> {
    if (documents.length === 0) return;
    const collection = collectionName('embedded', category);
    const chunks = documents.flatMap((document) => document.chunks);
    await this.store.upsert(
      collection,
      chunks.map((chunk) => ({
        id: chunk.id,
        vector: chunk.embedding,
        terms: chunkTerms(chunk, this.indexing),
        payload: chunkToPayload(chunk),
      })),
    );
    const keep = new Set(chunks.map((chunk) => chunk.id));
    const stale: string[] = [];
    const documentIds = documents.map((document) => document.documentId);
    for await (const point of this.store.scroll(collection, { filter: { documentIds } })) {
      if (!keep.has(point.id)) stale.push(point.id);
    }
    await this.store.deletePoints(collection, stale);
  }

  /** Written last for a document: its hash marks the document's features as complete and current. */
  async saveCleaned(category: Category, documents: readonly CleanedDocument[]): Promise<void> {
    await this.store.upsert(
      collectionName('cleaned', category),
      documents.map((document) => ({ id: document.documentId, payload: cleanedToPayload(document) })),
    );
  }

  async searchChunks(
    category: Category,
    query: ChunkQuery,
    options: { limit: number; authorIds?: readonly string[] },
  ): Promise<ScoredChunk[]> {
    const collection = collectionName('embedded', category);
    // An empty list of authors matches nothing (a caller allowed no author sees no chunk).
    const within = {
      limit: options.limit,
      ...(options.authorIds ? { filter: { authorIds: options.authorIds } } : {}),
    };
    let hits: (ScoredPoint & { ranks?: ScoredChunk['ranks'] })[];
    switch (query.mode) {
      case 'dense':
        hits = await this.store.search(collection, query.vector, within);
        break;
      case 'lexical':
        hits = await this.store.searchText(collection, query.terms, within);
        break;
      case 'hybrid':
        hits = await this.store.searchHybrid(
          collection,
          { vector: query.vector, terms: query.terms },
          { ...within, fusion: query.fusion, depth: query.depth },
        );
        break;
    }
    return hits.map((hit) => scoredChunkFromPayload(hit.id, hit.score, hit.payload, hit.ranks));
  }

  async counts(filter: PointFilter = {}): Promise<FeatureCounts> {
    const counts: FeatureCounts = {
      cleaned: { articles: 0, posts: 0, repositories: 0 },
      embedded: { articles: 0, posts: 0, repositories: 0 },
    };
    for (const category of CATEGORIES) {
      for (const snapshot of ['cleaned', 'embedded'] as const) {
        counts[snapshot][category] = await this.store.count(collectionName(snapshot, category), filter);
      }
    }
    return counts;
  }
}
