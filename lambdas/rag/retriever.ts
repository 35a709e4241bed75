import {
  CATEGORIES,
  fusionOf,
  type FusionKind,
  type RetrievalMode,
  type ScoredChunk,
} from '../domain/index.js';
import type { ChunkQuery, FeatureStore } from '../features/feature-store.js';
import type { Embedder } from '../ports/embedder.js';
import type { AuthorDirectory } from '../ports/warehouse.js';
import type { JsonChatModel } from '../ports/json-chat.js';
import type { Reranker } from '../ports/reranker.js';
import { ALL_AUTHORS, AuthorNotAllowedError, scopedDirectory, type AuthorScope } from '../access/scope.js';
import { expandQuery } from './query-expansion.js';
import { lookUpAuthor, matchAuthorName, selfQuery, type AuthorFilter } from './self-query.js';
import { rankShare } from '../shared/rank-fusion.js';
import type { TraceRecorder } from './trace.js';

/**
 * Chunks each list (dense, keyword) contributes to a hybrid search before fusion, at least: deep
 * enough that a chunk ranked well in one list but low in the other is still fused.
 */
export const FUSION_DEPTH = 50;

export interface RetrievalOptions {
  k: number;
  expand: boolean;
  /** Queries in all when expanding, the original included. */
  queries: number;
  rerank: boolean;
  /** Dense and keyword search fused (hybrid), or one of them alone. */
  mode: RetrievalMode;
  /** How hybrid fuses its two lists: by rank (rrf) or by normalised scores (convex). */
  fusion: FusionKind;
  /** Reciprocal rank fusion's k (hybrid with rrf; and lexical, to merge the collections by rank). */
  fusionK: number;
  /** Convex fusion's weight of the dense score. */
  fusionAlpha: number;
  /** An author named by the caller (name or id): skips self-query. */
  author?: string;
  /** The authors the caller may use; every one when absent. */
  scope?: AuthorScope;
}

export interface RankedChunk extends ScoredChunk {
  /**
   * The search score: the best cosine similarity (dense) or keyword rank score (lexical,
   * 1 / (fusionK + rank)) over the searched queries, or the sum of the fused scores over the queries
   * (hybrid: every query's two lists fused by rank or by normalised score).
   */
  searchScore: number;
  /** Per searched query (in order): the chunk's rank in its dense and keyword lists, where known. */
  queryRanks: ({ dense?: number; lexical?: number } | null)[];
  /** The cross-encoder's relevance (0-1) to the original query, when reranked. */
  rerankScore?: number;
}

export interface Retrieval {
  chunks: RankedChunk[];
  author: AuthorFilter;
  queries: string[];
  /** How the chunks were searched. */
  mode: RetrievalMode;
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
  /** How many of the best candidates the cross-encoder reads (its cost grows with each); default all. */
  rerankCandidates?: number;
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
    const authorIds = await this.searchedAuthors(author, options.scope);
    for (const note of [author.note, expansion.note]) if (note) trace.flags.add(note);

    const candidates = await trace.step(
      'search',
      {
        mode: options.mode,
        queries: expansion.queries.length,
        author_id: author.authorId ?? null,
        ...(authorIds && !author.authorId ? { within_authors: authorIds.length } : {}),
        limit_per_collection: options.k,
        ...(options.mode === 'hybrid'
          ? { fusion: fusionOf(options), depth: Math.max(options.k, FUSION_DEPTH) }
          : {}),
      },
      () => this.search(expansion.queries, options, authorIds),
      (found) => ({
        candidates: found.map((chunk) => ({
          id: chunk.id,
          score: round(chunk.searchScore),
          ...(options.mode === 'hybrid' ? { ranks: chunk.queryRanks } : {}),
        })),
      }),
    );

    const reranked = options.rerank ? await this.rerank(query, candidates, trace) : undefined;
    const ranked = reranked ?? candidates;
    const chunks = ranked.slice(0, options.k);
    return {
      chunks,
      author,
      queries: expansion.queries,
      mode: options.mode,
      candidates: candidates.length,
      reranked: reranked !== undefined,
    };
  }

  /**
   * The authors whose chunks are searched: the chosen one, or for a scoped caller who chose none,
   * every author in scope. A scoped caller who names an author outside the scope (or one that does
   * not exist: the two look alike) is refused.
   */
  private async searchedAuthors(
    author: AuthorFilter,
    scope: AuthorScope | undefined,
  ): Promise<readonly string[] | undefined> {
    if (author.authorId) return [author.authorId];
    if (!scope || scope.kind === 'all') return undefined;
    if (author.unknown) throw new AuthorNotAllowedError();
    const visible = await scopedDirectory(this.dependencies.authors, scope).listUsers();
    return visible.map((user) => user.id);
  }

  private async author(query: string, options: RetrievalOptions): Promise<AuthorFilter> {
    const { queryModel } = this.dependencies;
    const authors = scopedDirectory(this.dependencies.authors, options.scope ?? ALL_AUTHORS);
    if (options.author) return lookUpAuthor(authors, options.author, 'request');
    if (!queryModel) return matchAuthorName(authors, query);
    return selfQuery(queryModel, authors, query);
  }

  /**
   * Every query searched in the three embedded collections concurrently (embedded in one batch),
   * each query's results merged across collections by score; then merged across queries: hybrid
   * sums the fused scores (reciprocal rank fusion over all the lists), dense and lexical keep each
   * chunk's best score.
   */
  private async search(
    queries: readonly string[],
    options: Pick<RetrievalOptions, 'k' | 'mode' | 'fusion' | 'fusionK' | 'fusionAlpha'>,
    authorIds?: readonly string[],
  ): Promise<RankedChunk[]> {
    const { mode, k } = options;
    const vectors = mode === 'lexical' ? [] : await this.dependencies.embedder.embed(queries);
    const perQuery = await Promise.all(
      queries.map((text, index) => {
        const vector = vectors[index] ?? [];
        const terms = this.dependencies.features.queryTerms(text);
        const query: ChunkQuery =
          mode === 'dense'
            ? { mode, vector }
            : mode === 'lexical'
              ? { mode, terms }
              : { mode, vector, terms, fusion: fusionOf(options), depth: Math.max(k, FUSION_DEPTH) };
        return this.searchCollections(query, k, options.fusionK, authorIds);
      }),
    );
    const merged = new Map<string, RankedChunk>();
    perQuery.forEach((chunks, queryIndex) => {
      for (const chunk of chunks) {
        let entry = merged.get(chunk.id);
        if (!entry) {
          entry = {
            ...chunk,
            searchScore: mode === 'hybrid' ? 0 : chunk.score,
            queryRanks: queries.map(() => null),
          };
          merged.set(chunk.id, entry);
        }
        entry.queryRanks[queryIndex] = chunk.ranks ?? null;
        if (mode === 'hybrid') entry.searchScore += chunk.score;
        else entry.searchScore = Math.max(entry.searchScore, chunk.score);
      }
    });
    return [...merged.values()]
      .map((chunk) => ({ ...chunk, score: chunk.searchScore }))
      .sort((a, b) => b.searchScore - a.searchScore);
  }

  /**
   * One query in the three collections at once (filtered by author), merged best first. Cosine
   * similarities and fused scores compare across collections; BM25 scores do not (each collection
   * has its own term statistics), so keyword results are merged by rank: 1 / (fusionK + rank).
   */
  private async searchCollections(
    query: ChunkQuery,
    k: number,
    fusionK: number,
    authorIds?: readonly string[],
  ): Promise<ScoredChunk[]> {
    const perCategory = await Promise.all(
      CATEGORIES.map((category) =>
        this.dependencies.features.searchChunks(category, query, {
          limit: k,
          ...(authorIds ? { authorIds } : {}),
        }),
      ),
    );
    const comparable =
      query.mode === 'lexical'
        ? perCategory.map((chunks) =>
            chunks.map((chunk, index) => ({
              ...chunk,
              score: rankShare(fusionK, index + 1),
              ranks: { lexical: index + 1 },
            })),
          )
        : perCategory;
    return comparable.flat().sort((a, b) => b.score - a.score);
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
    // The best candidates after fusion are reread; the rest keep their order, after them.
    const cap = this.dependencies.rerankCandidates ?? candidates.length;
    const [reread, rest] = [candidates.slice(0, cap), candidates.slice(cap)];
    return trace.step(
      'rerank',
      { candidates: reread.length, not_reread: rest.length },
      async () => {
        const scores = await reranker.score(
          query,
          reread.map((chunk) => chunk.original),
        );
        const reranked = reread
          .map((chunk, index) => ({ ...chunk, rerankScore: scores[index] ?? 0, score: scores[index] ?? 0 }))
          .sort((a, b) => b.score - a.score);
        return [...reranked, ...rest];
      },
      (ranked) => ({ ranked: ranked.map((chunk) => ({ id: chunk.id, score: round(chunk.score) })) }),
    );
  }
}

function round(score: number): number {
  return Math.round(score * 10_000) / 10_000;
}
