import type { QdrantClient } from '@qdrant/js-client-rest';
import type {
  CollectionSpec,
  FusedPoint,
  HybridQuery,
  HybridSearchOptions,
  IndexedPayload,
  Point,
  PointFilter,
  ScoredPoint,
  ScrollOptions,
  SearchOptions,
  VectorStore,
} from '../../ports/vector-store.js';
import { documentSparseVector, querySparseVector } from './bm25-sparse.js';
import { INDEXED_FIELDS, filterConditions, matchesNothing } from './filters.js';
import { fuseHybridLists } from './hybrid-fusion.js';

/** The sparse vector of lexical collections, beside the unnamed dense one. */
export const SPARSE_VECTOR = 'bm25';

const UPSERT_BATCH = 256;
const DEFAULT_PAGE_SIZE = 256;
const REQUEST_TIMEOUT_MS = 60_000;

export interface QdrantConnection {
  url: string;
  apiKey?: string;
}

/** A failed Qdrant call, with what was asked and what Qdrant answered. */
export class VectorStoreError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'VectorStoreError';
  }
}

/**
 * The cloud feature store on Qdrant's REST API. Collections are created on first use with keyword
 * payload indexes on author_id and document_id (filters on them stay fast as collections grow);
 * writes wait for Qdrant to apply them, so a later read sees them.
 *
 * Lexical collections hold a sparse `bm25` vector beside the dense one, with Qdrant's `idf` modifier:
 * term weights come from the project's tokenizer (bm25-sparse.ts) and Qdrant supplies the inverse
 * document frequencies. Hybrid search is one Query API call, both searches as prefetches fused by
 * reciprocal rank on the server. The dense vector stays the unnamed default, so collections made
 * before lexical search keep serving dense search until they are rebuilt.
 */
export class QdrantVectorStore implements VectorStore {
  private readonly known = new Set<string>();
  /** Whether each collection has the sparse vector, asked once per collection. */
  private readonly lexical = new Map<string, Promise<boolean>>();

  constructor(private readonly client: QdrantClient) {}

  static async connect(connection: QdrantConnection): Promise<QdrantVectorStore> {
    const { QdrantClient } = await import('@qdrant/js-client-rest');
    return new QdrantVectorStore(
      new QdrantClient({
        url: connection.url,
        ...(connection.apiKey ? { apiKey: connection.apiKey } : {}),
        timeout: REQUEST_TIMEOUT_MS,
        // The version probe costs a round trip per container; our calls use long-stable endpoints.
        checkCompatibility: false,
      }),
    );
  }

  async ensureCollection(spec: CollectionSpec): Promise<void> {
    if (this.known.has(spec.name)) return;
    const { exists } = await this.call('check collection', spec.name, () =>
      this.client.collectionExists(spec.name),
    );
    if (!exists) {
      try {
        await onceMoreIfReset(() =>
          this.client.createCollection(spec.name, {
            vectors: spec.vectorSize === undefined ? {} : { size: spec.vectorSize, distance: 'Cosine' },
            ...(spec.lexical ? { sparse_vectors: { [SPARSE_VECTOR]: { modifier: 'idf' as const } } } : {}),
          }),
        );
      } catch (error) {
        // Another worker created it between our check and our create: that is what we wanted.
        if (statusOf(error) !== 409) throw describe('create collection', spec.name, error);
      }
      this.lexical.set(spec.name, Promise.resolve(Boolean(spec.lexical)));
      for (const field of INDEXED_FIELDS) {
        await this.call('create payload index', spec.name, () =>
          this.client.createPayloadIndex(spec.name, {
            field_name: field,
            field_schema: 'keyword',
            wait: true,
          }),
        );
      }
    }
    this.known.add(spec.name);
  }

  async upsert(collection: string, points: readonly Point[]): Promise<void> {
    if (points.length === 0) return;
    const lexical = await this.isLexical(collection);
    for (let start = 0; start < points.length; start += UPSERT_BATCH) {
      const batch = points.slice(start, start + UPSERT_BATCH).map((point) => ({
        id: point.id,
        vector: lexical
          ? {
              ...(point.vector ? { '': point.vector } : {}),
              [SPARSE_VECTOR]: documentSparseVector(point.terms ?? []),
            }
          : (point.vector ?? {}),
        payload: point.payload,
      }));
      await this.call('upsert', collection, () =>
        this.client.upsert(collection, { wait: true, points: batch }),
      );
    }
  }

  async search(
    collection: string,
    vector: readonly number[],
    options: SearchOptions,
  ): Promise<ScoredPoint[]> {
    if (matchesNothing(options.filter)) return [];
    const filter = toQdrantFilter(options.filter);
    const result = await this.read('query', collection, () =>
      this.client.query(collection, {
        query: [...vector],
        limit: options.limit,
        with_payload: true,
        ...(filter ? { filter } : {}),
      }),
    );
    return scored(result?.points);
  }

  async searchText(
    collection: string,
    terms: readonly string[],
    options: SearchOptions,
  ): Promise<ScoredPoint[]> {
    if (terms.length === 0 || matchesNothing(options.filter) || !(await this.isLexical(collection)))
      return [];
    const filter = toQdrantFilter(options.filter);
    const result = await this.read('keyword query', collection, () =>
      this.client.query(collection, {
        query: querySparseVector(terms),
        using: SPARSE_VECTOR,
        limit: options.limit,
        with_payload: true,
        ...(filter ? { filter } : {}),
      }),
    );
    return scored(result?.points);
  }

  /**
   * Reciprocal rank fusion is Qdrant's own: one Query API call, a dense and a sparse prefetch (each
   * filtered, `depth` deep) fused on the server. Qdrant counts ranks from 0 (a point's share is
   * 1 / (k + rank)), so it is sent k + 1 to score exactly as the port defines; it does not report the
   * two ranks. Convex fusion needs each list's scores normalised per query, which the server's
   * fusions (RRF, DBSF) and score formulas cannot express: both lists are fetched and fused here.
   */
  async searchHybrid(
    collection: string,
    query: HybridQuery,
    options: HybridSearchOptions,
  ): Promise<FusedPoint[]> {
    if (matchesNothing(options.filter)) return [];
    const depth = Math.max(options.depth, options.limit);
    const deep = { limit: depth, ...(options.filter ? { filter: options.filter } : {}) };
    if (query.terms.length === 0 || !(await this.isLexical(collection))) {
      // Nothing to match by keyword: the fused ranking is the dense one.
      const dense = await this.search(collection, query.vector, deep);
      return fuseHybridLists(dense, [], options.fusion, options.limit);
    }
    const { fusion } = options;
    if (fusion.kind === 'convex') {
      const [dense, lexical] = await Promise.all([
        this.search(collection, query.vector, deep),
        this.searchText(collection, query.terms, deep),
      ]);
      return fuseHybridLists(dense, lexical, fusion, options.limit);
    }
    const filter = toQdrantFilter(options.filter);
    const within = { limit: depth, ...(filter ? { filter } : {}) };
    const result = await this.read('hybrid query', collection, () =>
      this.client.query(collection, {
        prefetch: [
          { query: [...query.vector], ...within },
          { query: querySparseVector(query.terms), using: SPARSE_VECTOR, ...within },
        ],
        query: { rrf: { k: fusion.k + 1 } },
        limit: options.limit,
        with_payload: true,
      }),
    );
    return scored(result?.points);
  }

  hasLexicalIndex(collection: string): Promise<boolean> {
    return this.isLexical(collection);
  }

  /** Qdrant indexes sparse vectors as they are written. */
  refreshIndexes(): Promise<void> {
    return Promise.resolve();
  }

  async deleteCollection(collection: string): Promise<void> {
    this.known.delete(collection);
    this.lexical.delete(collection);
    await this.read('delete collection', collection, () => this.client.deleteCollection(collection));
  }

  async *scroll(collection: string, options: ScrollOptions = {}): AsyncIterable<Point> {
    if (matchesNothing(options.filter)) return;
    const filter = toQdrantFilter(options.filter);
    let offset: string | number | undefined;
    do {
      const page = await this.read('scroll', collection, () =>
        this.client.scroll(collection, {
          limit: options.pageSize ?? DEFAULT_PAGE_SIZE,
          with_payload: true,
          with_vector: false,
          ...(filter ? { filter } : {}),
          ...(offset === undefined ? {} : { offset }),
        }),
      );
      if (!page) return;
      for (const point of page.points)
        yield { id: String(point.id), payload: point.payload as IndexedPayload };
      const next = page.next_page_offset;
      offset = typeof next === 'string' || typeof next === 'number' ? next : undefined;
    } while (offset !== undefined);
  }

  async deletePoints(collection: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.read('delete points', collection, () =>
      this.client.delete(collection, { wait: true, points: [...ids] }),
    );
  }

  async count(collection: string, filter?: PointFilter): Promise<number> {
    if (matchesNothing(filter)) return 0;
    const qdrantFilter = toQdrantFilter(filter);
    const result = await this.read('count', collection, () =>
      this.client.count(collection, { exact: true, ...(qdrantFilter ? { filter: qdrantFilter } : {}) }),
    );
    return result?.count ?? 0;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private isLexical(collection: string): Promise<boolean> {
    let known = this.lexical.get(collection);
    if (!known) {
      const described = this.read('describe collection', collection, () =>
        this.client.getCollection(collection),
      );
      known = described.then((info) => Boolean(info?.config.params.sparse_vectors?.[SPARSE_VECTOR]));
      this.lexical.set(collection, known);
      // A collection that does not exist yet may be created later: its answer is not kept.
      void described.then(
        (info) => {
          if (!info) this.lexical.delete(collection);
        },
        () => this.lexical.delete(collection),
      );
    }
    return known;
  }

  private async call<T>(operation: string, collection: string, request: () => Promise<T>): Promise<T> {
    try {
      return await onceMoreIfReset(request);
    } catch (error) {
      throw describe(operation, collection, error);
    }
  }

  /** Like call, but a collection that does not exist yet reads as empty. */
  private async read<T>(
    operation: string,
    collection: string,
    request: () => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await onceMoreIfReset(request);
    } catch (error) {
      if (statusOf(error) === 404) {
        this.known.delete(collection);
        this.lexical.delete(collection);
        return undefined;
      }
      throw describe(operation, collection, error);
    }
  }
}

/** Connection-level failures of a request that never got an answer. */
const RESET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

function wasReset(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (RESET_CODES.has((cause as { code?: string }).code ?? '')) return true;
  }
  return false;
}

/**
 * Sends a request again, once, when the connection was closed under it: a server may close an idle
 * keep-alive connection just as the client reuses it ("other side closed"). Every request this
 * adapter sends is idempotent (points are written by id, deletes are by id or filter), so a second
 * send does what the first would have done.
 */
async function onceMoreIfReset<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (!wasReset(error)) throw error;
    return request();
  }
}

function scored(points: { id: string | number; score: number; payload?: unknown }[] | undefined) {
  return (points ?? []).map((point) => ({
    id: String(point.id),
    payload: point.payload as IndexedPayload,
    score: point.score,
  }));
}

export function toQdrantFilter(filter: PointFilter | undefined) {
  const must = filterConditions(filter).map(({ field, values }) => ({
    key: field,
    match: { any: [...values] },
  }));
  return must.length > 0 ? { must } : undefined;
}

function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number') {
    return error.status;
  }
  return undefined;
}

/** Qdrant puts its reason in `{"status": {"error": "..."}}`; surface it instead of the bare status text. */
function describe(operation: string, collection: string, error: unknown): VectorStoreError {
  const status = statusOf(error);
  const data = typeof error === 'object' && error !== null && 'data' in error ? error.data : undefined;
  const reason =
    (data as { status?: { error?: string } } | undefined)?.status?.error ??
    (error instanceof Error ? error.message : String(error));
  const prefix = status === undefined ? '' : `HTTP ${status}: `;
  return new VectorStoreError(`Qdrant ${operation} on ${collection} failed (${prefix}${reason})`, status, {
    cause: error,
  });
}
