import type { ScoredChunk } from '../domain/index.js';
import type { FeatureStore } from '../features/feature-store.js';
import type { Embedder } from '../ports/embedder.js';
import type { JsonChatModel } from '../ports/json-chat.js';
import type { Reranker } from '../ports/reranker.js';
import { expandQuery } from './query-expansion.js';
import { lookUpAuthor, selfQuery, type AuthorDirectory, type AuthorFilter } from './self-query.js';
import type { TraceRecorder } from './trace.js';
import { searchEmbeddedCollections } from './vector-search.js';

export interface RetrievalOptions {
  k: number;
  expand: boolean;
  /** Queries in all when expanding, the original included. */
  queries: number;
  rerank: boolean;
  /** An author named by the caller (name or id): skips self-query. */
  author?: string;
}

export interface RankedChunk extends ScoredChunk {
  /** Best cosine similarity over the searched queries. */
  vectorScore: number;
  /** The cross-encoder's relevance (0-1) to the original query, when reranked. */
  rerankScore?: number;
}

export interface Retrieval {
  chunks: RankedChunk[];
  author: AuthorFilter;
  queries: string[];
  /** Distinct chunks found before keeping the top k. */
  candidates: number;
  reranked: boolean;
}

export interface RetrieverDependencies {
  features: FeatureStore;
  embedder: Embedder;
  authors: AuthorDirectory;
  /** The LLM for self-query and expansion; without one both steps are skipped. */
  queryModel?: JsonChatModel;
  /** The cross-encoder, loaded on first use; a load failure skips reranking (said in the trace). */
  reranker?: () => Promise<Reranker>;
}

/**
 * The advanced RAG retriever (SYSTEM.md §6): self-query for the author, query expansion, every query
 * searched in the three embedded collections concurrently, candidates merged by chunk id, reranked
 * against the original query by a cross-encoder, top k kept. Every step is switchable and traced.
 */
export class ContextRetriever {
  constructor(private readonly dependencies: RetrieverDependencies) {}

  async retrieve(query: string, options: RetrievalOptions, trace: TraceRecorder): Promise<Retrieval> {
    const { queryModel } = this.dependencies;
    if (queryModel) trace.models.query = queryModel.model;
    trace.models.embedding = this.dependencies.embedder.model.id;

    const [author, expansion] = await Promise.all([
      trace.step(
        'self_query',
        { author: options.author ?? null },
        () => this.author(query, options),
        (filter) => ({ ...filter }),
      ),
      trace.step(
        'query_expansion',
        { enabled: options.expand, queries: options.queries },
        async () =>
          options.expand && queryModel
            ? expandQuery(queryModel, query, options.queries)
            : {
                queries: [query],
                ...(options.expand
                  ? { note: 'no query model configured; searching the original query only' }
                  : {}),
              },
        (result) => ({ ...result }),
      ),
    ]);
    for (const note of [author.note, expansion.note]) if (note) trace.flags.add(note);

    const candidates = await trace.step(
      'vector_search',
      {
        queries: expansion.queries.length,
        author_id: author.authorId ?? null,
        limit_per_collection: options.k,
      },
      () => this.search(expansion.queries, options.k, author.authorId),
      (found) => ({ candidates: found.map((chunk) => ({ id: chunk.id, score: round(chunk.vectorScore) })) }),
    );

    const reranked = options.rerank ? await this.rerank(query, candidates, trace) : undefined;
    const ranked = reranked ?? candidates;
    const chunks = ranked.slice(0, options.k);
    return {
      chunks,
      author,
      queries: expansion.queries,
      candidates: candidates.length,
      reranked: reranked !== undefined,
    };
  }

  private async author(query: string, options: RetrievalOptions): Promise<AuthorFilter> {
    const { queryModel, authors } = this.dependencies;
    if (options.author) return lookUpAuthor(authors, options.author, 'request');
    if (!queryModel) return { source: 'none', note: 'no query model configured; self-query skipped' };
    return selfQuery(queryModel, authors, query);
  }

  /** Embeds all queries in one batch, searches them concurrently, keeps each chunk's best score. */
  private async search(queries: readonly string[], k: number, authorId?: string): Promise<RankedChunk[]> {
    const vectors = await this.dependencies.embedder.embed(queries);
    const results = await Promise.all(
      vectors.map((vector) =>
        searchEmbeddedCollections(this.dependencies.features, vector, {
          limitPerCategory: k,
          ...(authorId ? { authorId } : {}),
        }),
      ),
    );
    const best = new Map<string, RankedChunk>();
    for (const chunk of results.flat()) {
      const known = best.get(chunk.id);
      if (!known || chunk.score > known.vectorScore)
        best.set(chunk.id, { ...chunk, vectorScore: chunk.score });
    }
    return [...best.values()].sort((a, b) => b.vectorScore - a.vectorScore);
  }

  private async rerank(
    query: string,
    candidates: RankedChunk[],
    trace: TraceRecorder,
  ): Promise<RankedChunk[] | undefined> {
    const load = this.dependencies.reranker;
    if (!load) {
      trace.flags.add('no reranker configured; kept vector order');
      return undefined;
    }
    let reranker: Reranker;
    try {
      reranker = await load();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      trace.flags.add(`reranker unavailable (${reason}); kept vector order`);
      return undefined;
    }
    trace.models.rerank = reranker.model;
    return trace.step(
      'rerank',
      { candidates: candidates.length },
      async () => {
        const scores = await reranker.score(
          query,
          candidates.map((chunk) => chunk.content),
        );
        return candidates
          .map((chunk, index) => ({ ...chunk, rerankScore: scores[index] ?? 0, score: scores[index] ?? 0 }))
          .sort((a, b) => b.score - a.score);
      },
      (ranked) => ({ ranked: ranked.map((chunk) => ({ id: chunk.id, score: round(chunk.score) })) }),
    );
  }
}

function round(score: number): number {
  return Math.round(score * 10_000) / 10_000;
}
