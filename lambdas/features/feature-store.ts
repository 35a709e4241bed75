import {
  CATEGORIES,
  FEATURE_COLLECTIONS,
  chunkToPayload,
  cleanedFromPayload,
  cleanedToPayload,
  collectionName,
  scoredChunkFromPayload,
  type Category,
  type CleanedDocument,
  type EmbeddedChunk,
  type EmbeddingModelInfo,
  type ScoredChunk,
  type Snapshot,
} from '../domain/index.js';
import type { PointFilter, VectorStore } from '../ports/vector-store.js';

export type FeatureCounts = Record<Snapshot, Record<Category, number>>;

/**
 * The logical feature store over any vector database: the cleaned snapshot (one payload-only point
 * per document, keyed by the document id) and the embedded snapshot (one vector per chunk).
 */
export class FeatureStore {
  /** `model` sizes the embedded collections; readers of the cleaned snapshot need none. */
  constructor(
    private readonly store: VectorStore,
    readonly model?: EmbeddingModelInfo,
  ) {}

  async ensureCollections(): Promise<void> {
    const { model } = this;
    if (!model) throw new Error('creating the feature collections needs the embedding model (its dimension)');
    for (const { snapshot, category } of FEATURE_COLLECTIONS) {
      await this.store.ensureCollection({
        name: collectionName(snapshot, category),
        ...(snapshot === 'embedded' ? { vectorSize: model.size } : {}),
      });
    }
  }

  /** Content hash of every stored cleaned document that matches, by document id. */
  async storedHashes(category: Category, filter: PointFilter = {}): Promise<Map<string, string>> {
    const hashes = new Map<string, string>();
    for await (const point of this.store.scroll(collectionName('cleaned', category), { filter })) {
      const hash = point.payload.content_hash;
      if (typeof hash === 'string') hashes.set(point.payload.document_id, hash);
    }
    return hashes;
  }

  async *cleanedDocuments(category: Category, filter: PointFilter = {}): AsyncIterable<CleanedDocument> {
    for await (const point of this.store.scroll(collectionName('cleaned', category), { filter })) {
      yield cleanedFromPayload(point.payload);
    }
  }

  /**
   * Makes `chunks` the document's only chunks: new ones are written first, then the ones the new text
   * no longer has are removed, so a reader never finds the document without chunks.
   */
  async replaceChunks(
    category: Category,
    documentId: string,
    chunks: readonly EmbeddedChunk[],
  ): Promise<void> {
    const collection = collectionName('embedded', category);
    await this.store.upsert(
      collection,
      chunks.map((chunk) => ({ id: chunk.id, vector: chunk.embedding, payload: chunkToPayload(chunk) })),
    );
    const keep = new Set(chunks.map((chunk) => chunk.id));
    const stale: string[] = [];
    for await (const point of this.store.scroll(collection, { filter: { documentIds: [documentId] } })) {
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
    vector: readonly number[],
    options: { limit: number; authorId?: string },
  ): Promise<ScoredChunk[]> {
    const hits = await this.store.search(collectionName('embedded', category), vector, {
      limit: options.limit,
      ...(options.authorId ? { filter: { authorIds: [options.authorId] } } : {}),
    });
    return hits.map((hit) => scoredChunkFromPayload(hit.id, hit.score, hit.payload));
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
