import type { QdrantClient } from '@qdrant/js-client-rest';
import type {
  CollectionSpec,
  IndexedPayload,
  Point,
  PointFilter,
  ScoredPoint,
  ScrollOptions,
  SearchOptions,
  VectorStore,
} from '../../ports/vector-store.js';
import { INDEXED_FIELDS, filterConditions, matchesNothing } from './filters.js';

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
 */
export class QdrantVectorStore implements VectorStore {
  private readonly known = new Set<string>();

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
        await this.client.createCollection(spec.name, {
          vectors: spec.vectorSize === undefined ? {} : { size: spec.vectorSize, distance: 'Cosine' },
        });
      } catch (error) {
        // Another worker created it between our check and our create: that is what we wanted.
        if (statusOf(error) !== 409) throw describe('create collection', spec.name, error);
      }
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
    for (let start = 0; start < points.length; start += UPSERT_BATCH) {
      const batch = points.slice(start, start + UPSERT_BATCH).map((point) => ({
        id: point.id,
        vector: point.vector ?? {},
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
    return (result?.points ?? []).map((point) => ({
      id: String(point.id),
      payload: point.payload as IndexedPayload,
      score: point.score,
    }));
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

  private async call<T>(operation: string, collection: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
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
      return await request();
    } catch (error) {
      if (statusOf(error) === 404) {
        this.known.delete(collection);
        return undefined;
      }
      throw describe(operation, collection, error);
    }
  }
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
