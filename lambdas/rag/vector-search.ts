import { CATEGORIES, type ScoredChunk } from '../domain/index.js';
import type { FeatureStore } from '../features/feature-store.js';
import type { Embedder } from '../ports/embedder.js';

/**
 * One query vector searched in the three embedded collections at once (filtered by author when one is
 * given), merged best first, each chunk once.
 */
export async function searchEmbeddedCollections(
  features: FeatureStore,
  vector: readonly number[],
  options: { limitPerCategory: number; authorId?: string },
): Promise<ScoredChunk[]> {
  const perCategory = await Promise.all(
    CATEGORIES.map((category) =>
      features.searchChunks(category, vector, {
        limit: options.limitPerCategory,
        ...(options.authorId ? { authorId: options.authorId } : {}),
      }),
    ),
  );
  const seen = new Set<string>();
  return perCategory
    .flat()
    .sort((a, b) => b.score - a.score)
    .filter((chunk) => !seen.has(chunk.id) && seen.add(chunk.id));
}

export interface SearchRequest {
  query: string;
  /** How many chunks to return. */
  k: number;
  authorId?: string;
}

/**
 * Plain filtered vector search (the first stage of the RAG retriever, SYSTEM.md §6): the query is
 * embedded by the model the chunks were embedded with. Each collection is asked for k chunks, not the
 * book's k/3: with an author who has no posts or repositories, k/3 would return a third of k.
 */
export async function vectorSearch(
  { features, embedder }: { features: FeatureStore; embedder: Embedder },
  request: SearchRequest,
): Promise<ScoredChunk[]> {
  const [vector] = await embedder.embed([request.query]);
  const chunks = await searchEmbeddedCollections(features, vector ?? [], {
    limitPerCategory: request.k,
    ...(request.authorId ? { authorId: request.authorId } : {}),
  });
  return chunks.slice(0, request.k);
}
