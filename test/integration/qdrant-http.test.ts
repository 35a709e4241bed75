import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { QdrantVectorStore, VectorStoreError } from '../../lambdas/adapters/vector-store/index.js';
import { startLoopbackServer } from '../support/http-server.js';
import { documentSparseVector, querySparseVector } from '../../lambdas/adapters/vector-store/bm25-sparse.js';
import { lexicalTerms } from '../../lambdas/features/lexical-terms.js';

/** One request as Qdrant received it. */
interface Received {
  method: string;
  path: string;
  body: unknown;
  apiKey: string | undefined;
}

type Reply = { status?: number; result?: unknown; error?: string; hangUp?: boolean };

/**
 * A loopback HTTP server speaking Qdrant's response envelope (`{result, status, time}`, errors as
 * `{status: {error}}`), answering each request from a script, and recording what the adapter sent.
 */
async function qdrantLike(script: (request: Received) => Reply) {
  const received: Received[] = [];
  const server = await startLoopbackServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const apiKey = request.headers['api-key'];
      const entry: Received = {
        method: request.method ?? '',
        path: request.url ?? '',
        body: text ? JSON.parse(text) : undefined,
        apiKey: Array.isArray(apiKey) ? apiKey[0] : apiKey,
      };
      received.push(entry);
      const reply = script(entry);
      if (reply.hangUp) {
        // As a server closing a keep-alive connection the client had just reused: no answer at all.
        request.socket.destroy();
        return;
      }
      const status = reply.status ?? 200;
      const body =
        status < 300
          ? { result: reply.result ?? true, status: 'ok', time: 0.0001 }
          : { status: { error: reply.error ?? 'error' }, time: 0 };
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
  });
  openServers.push(server);
  const store = await QdrantVectorStore.connect({ url: server.url, apiKey: 'secret-key' });
  return { store, received };
}

const AUTHOR = randomUUID();
/** GET /collections/{name} for a collection without the sparse vector. */
const denseInfo = {
  result: { status: 'green', config: { params: { vectors: { size: 2, distance: 'Cosine' } } } },
};
const openServers: { close(): Promise<void> }[] = [];

describe('Qdrant adapter at the HTTP boundary', () => {
  afterEach(async () => {
    await Promise.all(openServers.splice(0).map((server) => server.close()));
  });

  it('creates a missing cosine collection with keyword indexes on author_id and document_id, once', async () => {
    const { store, received } = await qdrantLike((request) =>
      request.path.endsWith('/exists') ? { result: { exists: false } } : { result: true },
    );

    await store.ensureCollection({ name: 'embedded_articles', vectorSize: 384 });
    await store.ensureCollection({ name: 'embedded_articles', vectorSize: 384 });

    expect(received.map(({ method, path, body, apiKey }) => ({ method, path, body, apiKey }))).toEqual([
      { method: 'GET', path: '/collections/embedded_articles/exists', body: undefined, apiKey: 'secret-key' },
      {
        method: 'PUT',
        path: '/collections/embedded_articles',
        body: { vectors: { size: 384, distance: 'Cosine' } },
        apiKey: 'secret-key',
      },
      {
        method: 'PUT',
        path: '/collections/embedded_articles/index?wait=true',
        body: { field_name: 'author_id', field_schema: 'keyword' },
        apiKey: 'secret-key',
      },
      {
        method: 'PUT',
        path: '/collections/embedded_articles/index?wait=true',
        body: { field_name: 'document_id', field_schema: 'keyword' },
        apiKey: 'secret-key',
      },
    ]);
  });

  it('sends a request again, once, when the connection is closed under it, and not after an HTTP error', async () => {
    let upserts = 0;
    const { store, received } = await qdrantLike((request) => {
      if (request.method === 'PUT' && request.path.includes('/points')) {
        upserts += 1;
        if (upserts === 1) return { hangUp: true };
        if (upserts === 3) return { status: 500, error: 'Service internal error' };
      }
      if (request.method === 'GET') return denseInfo;
      return { result: { operation_id: 1, status: 'completed' } };
    });
    const point = {
      id: randomUUID(),
      vector: [1, 0],
      payload: { author_id: AUTHOR, document_id: randomUUID() },
    };

    await store.upsert('embedded_articles', [point]);
    expect(received.filter((request) => request.path.includes('/points'))).toHaveLength(2);

    await expect(store.upsert('embedded_articles', [point])).rejects.toThrow(/HTTP 500/u);
    expect(received.filter((request) => request.path.includes('/points'))).toHaveLength(3);
  });

  it('creates payload-only collections without vectors, and accepts losing a creation race', async () => {
    const { store, received } = await qdrantLike((request) => {
      if (request.path.endsWith('/exists')) return { result: { exists: false } };
      if (request.method === 'PUT' && request.path === '/collections/cleaned_posts') {
        return { status: 409, error: 'Wrong input: Collection `cleaned_posts` already exists!' };
      }
      return { result: true };
    });

    await store.ensureCollection({ name: 'cleaned_posts' });

    expect(received[1]).toMatchObject({
      method: 'PUT',
      path: '/collections/cleaned_posts',
      body: { vectors: {} },
    });
    expect(received).toHaveLength(4);
  });

  it('upserts in batches of 256 and waits for each to be applied', async () => {
    const { store, received } = await qdrantLike((request) =>
      request.method === 'GET' ? denseInfo : { result: { operation_id: 1, status: 'completed' } },
    );
    const points = Array.from({ length: 300 }, (_, i) => ({
      id: randomUUID(),
      payload: { author_id: AUTHOR, document_id: `d${String(i)}` },
      vector: [0.6, 0.8],
    }));

    await store.upsert('embedded_posts', points);

    expect(received.map((request) => `${request.method} ${request.path}`)).toEqual([
      'GET /collections/embedded_posts',
      'PUT /collections/embedded_posts/points?wait=true',
      'PUT /collections/embedded_posts/points?wait=true',
    ]);
    const batches = received.slice(1).map((request) => (request.body as { points: unknown[] }).points);
    expect(batches.map((batch) => batch.length)).toEqual([256, 44]);
    expect(batches[0]?.[0]).toEqual(points[0]);
  });

  it('sends payload-only points with an empty vector map', async () => {
    const { store, received } = await qdrantLike((request) =>
      request.method === 'GET' ? denseInfo : { result: { operation_id: 1, status: 'completed' } },
    );
    const id = randomUUID();

    await store.upsert('cleaned_posts', [{ id, payload: { author_id: AUTHOR, document_id: 'd1' } }]);

    expect(received[1]?.body).toEqual({
      points: [{ id, vector: {}, payload: { author_id: AUTHOR, document_id: 'd1' } }],
    });
  });

  it('searches with the query API and a must/match-any filter, and maps scored points', async () => {
    const hitId = randomUUID();
    const { store, received } = await qdrantLike(() => ({
      result: {
        points: [
          {
            id: hitId,
            version: 3,
            score: 0.87,
            payload: { author_id: AUTHOR, document_id: 'd1', content: 'x' },
          },
        ],
      },
    }));

    const hits = await store.search('embedded_articles', [0.6, 0.8], {
      limit: 5,
      filter: { authorIds: [AUTHOR], documentIds: ['d1', 'd2'] },
    });

    expect(received[0]).toMatchObject({
      method: 'POST',
      path: '/collections/embedded_articles/points/query',
      body: {
        query: [0.6, 0.8],
        limit: 5,
        with_payload: true,
        filter: {
          must: [
            { key: 'author_id', match: { any: [AUTHOR] } },
            { key: 'document_id', match: { any: ['d1', 'd2'] } },
          ],
        },
      },
    });
    expect(hits).toEqual([
      { id: hitId, score: 0.87, payload: { author_id: AUTHOR, document_id: 'd1', content: 'x' } },
    ]);
  });

  it('follows next_page_offset when scrolling, and asks for no vectors', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const payload = { author_id: AUTHOR, document_id: 'd1' };
    const { store, received } = await qdrantLike((request) => {
      const offset = (request.body as { offset?: string }).offset;
      return offset === undefined
        ? {
            result: {
              points: [
                { id: ids[0], payload },
                { id: ids[1], payload },
              ],
              next_page_offset: ids[2],
            },
          }
        : { result: { points: [{ id: ids[2], payload }], next_page_offset: null } };
    });

    const found: string[] = [];
    for await (const point of store.scroll('cleaned_articles', {
      pageSize: 2,
      filter: { authorIds: [AUTHOR] },
    })) {
      found.push(point.id);
    }

    expect(found).toEqual(ids);
    expect(received.map((request) => request.body)).toEqual([
      {
        limit: 2,
        with_payload: true,
        with_vector: false,
        filter: { must: [{ key: 'author_id', match: { any: [AUTHOR] } }] },
      },
      {
        limit: 2,
        with_payload: true,
        with_vector: false,
        filter: { must: [{ key: 'author_id', match: { any: [AUTHOR] } }] },
        offset: ids[2],
      },
    ]);
    expect(received.every((request) => request.path === '/collections/cleaned_articles/points/scroll')).toBe(
      true,
    );
  });

  it('counts exactly and deletes points by id', async () => {
    const { store, received } = await qdrantLike((request) =>
      request.path.includes('/count')
        ? { result: { count: 7 } }
        : { result: { operation_id: 2, status: 'completed' } },
    );
    const id = randomUUID();

    expect(await store.count('embedded_posts', { authorIds: [AUTHOR] })).toBe(7);
    await store.deletePoints('embedded_posts', [id]);

    expect(received).toMatchObject([
      {
        method: 'POST',
        path: '/collections/embedded_posts/points/count',
        body: { exact: true, filter: { must: [{ key: 'author_id', match: { any: [AUTHOR] } }] } },
      },
      { method: 'POST', path: '/collections/embedded_posts/points/delete?wait=true', body: { points: [id] } },
    ]);
  });

  it('reads a collection Qdrant does not have (404) as empty', async () => {
    const { store } = await qdrantLike(() => ({
      status: 404,
      error: "Not found: Collection `embedded_posts` doesn't exist!",
    }));

    expect(await store.search('embedded_posts', [1, 0], { limit: 3 })).toEqual([]);
    expect(await store.count('embedded_posts')).toBe(0);
  });

  it("reports Qdrant's own reason for a rejected request", async () => {
    const { store } = await qdrantLike((request) =>
      request.method === 'GET'
        ? denseInfo
        : { status: 400, error: 'Wrong input: Vector dimension error: expected dim: 384, got 2' },
    );

    const failure = store.upsert('embedded_posts', [
      { id: randomUUID(), payload: { author_id: AUTHOR, document_id: 'd1' }, vector: [0.6, 0.8] },
    ]);

    await expect(failure).rejects.toBeInstanceOf(VectorStoreError);
    await expect(failure).rejects.toThrow(
      'Qdrant upsert on embedded_posts failed (HTTP 400: Wrong input: Vector dimension error: expected dim: 384, got 2)',
    );
  });

  it('never asks the server when a filter lists no values', async () => {
    const { store, received } = await qdrantLike(() => ({ result: { points: [] } }));

    expect(await store.search('embedded_posts', [1, 0], { limit: 3, filter: { authorIds: [] } })).toEqual([]);
    expect(received).toEqual([]);
  });

  describe('lexical collections', () => {
    const lexicalInfo = {
      result: {
        status: 'green',
        config: {
          params: { vectors: { size: 2, distance: 'Cosine' }, sparse_vectors: { bm25: { modifier: 'idf' } } },
        },
      },
    };
    const terms = lexicalTerms('LoRA adapters and LoRA ranks');

    it('creates the collection with a sparse bm25 vector and the idf modifier beside the dense one', async () => {
      const { store, received } = await qdrantLike((request) =>
        request.path.endsWith('/exists') ? { result: { exists: false } } : { result: true },
      );

      await store.ensureCollection({ name: 'embedded_articles', vectorSize: 384, lexical: true });

      expect(received[1]).toMatchObject({
        method: 'PUT',
        path: '/collections/embedded_articles',
        body: { vectors: { size: 384, distance: 'Cosine' }, sparse_vectors: { bm25: { modifier: 'idf' } } },
      });
    });

    it('writes the dense vector unnamed and the terms as a sparse BM25 vector', async () => {
      const { store, received } = await qdrantLike((request) =>
        request.method === 'GET' ? lexicalInfo : { result: { operation_id: 1, status: 'completed' } },
      );
      const id = randomUUID();

      await store.upsert('embedded_articles', [
        { id, vector: [0.6, 0.8], terms, payload: { author_id: AUTHOR, document_id: 'd1' } },
      ]);

      expect(received.map((request) => `${request.method} ${request.path}`)).toEqual([
        'GET /collections/embedded_articles',
        'PUT /collections/embedded_articles/points?wait=true',
      ]);
      expect(received[1]?.body).toEqual({
        points: [
          {
            id,
            vector: { '': [0.6, 0.8], bm25: documentSparseVector(terms) },
            payload: { author_id: AUTHOR, document_id: 'd1' },
          },
        ],
      });
    });

    it('searches by keyword with the sparse query vector and the filter', async () => {
      const { store, received } = await qdrantLike((request) =>
        request.method === 'GET' ? lexicalInfo : { result: { points: [] } },
      );

      await store.searchText('embedded_articles', terms, { limit: 7, filter: { authorIds: [AUTHOR] } });

      expect(received[1]).toEqual({
        method: 'POST',
        path: '/collections/embedded_articles/points/query',
        apiKey: 'secret-key',
        body: {
          query: querySparseVector(terms),
          using: 'bm25',
          limit: 7,
          with_payload: true,
          filter: { must: [{ key: 'author_id', match: { any: [AUTHOR] } }] },
        },
      });
    });

    it('asks for hybrid search in one query: filtered dense and sparse prefetches fused by RRF on the server', async () => {
      const hitId = randomUUID();
      const { store, received } = await qdrantLike((request) =>
        request.method === 'GET'
          ? lexicalInfo
          : {
              result: {
                points: [
                  { id: hitId, version: 1, score: 0.0328, payload: { author_id: AUTHOR, document_id: 'd1' } },
                ],
              },
            },
      );

      const hits = await store.searchHybrid(
        'embedded_articles',
        { vector: [0.6, 0.8], terms },
        { limit: 9, depth: 50, fusion: { kind: 'rrf', k: 60 }, filter: { authorIds: [AUTHOR] } },
      );

      const filter = { must: [{ key: 'author_id', match: { any: [AUTHOR] } }] };
      expect(received[1]).toEqual({
        method: 'POST',
        path: '/collections/embedded_articles/points/query',
        apiKey: 'secret-key',
        body: {
          prefetch: [
            { query: [0.6, 0.8], limit: 50, filter },
            { query: querySparseVector(terms), using: 'bm25', limit: 50, filter },
          ],
          // Qdrant counts ranks from 0: k + 1 scores as 1 / (k + rank) with ranks from 1.
          query: { rrf: { k: 61 } },
          limit: 9,
          with_payload: true,
        },
      });
      expect(hits).toEqual([{ id: hitId, score: 0.0328, payload: { author_id: AUTHOR, document_id: 'd1' } }]);
    });

    it('searches a collection made before keyword search densely, and finds nothing by keyword there', async () => {
      const { store, received } = await qdrantLike((request) =>
        request.method === 'GET'
          ? { result: { status: 'green', config: { params: { vectors: { size: 2, distance: 'Cosine' } } } } }
          : { result: { points: [] } },
      );

      expect(await store.searchText('embedded_articles', terms, { limit: 3 })).toEqual([]);
      await store.searchHybrid(
        'embedded_articles',
        { vector: [0.6, 0.8], terms },
        { limit: 3, depth: 50, fusion: { kind: 'rrf', k: 60 } },
      );

      expect(received.map((request) => `${request.method} ${request.path}`)).toEqual([
        'GET /collections/embedded_articles',
        'POST /collections/embedded_articles/points/query',
      ]);
      // As deep as a hybrid search's lists, so its scores are normalised over the same depth.
      expect(received[1]?.body).toEqual({ query: [0.6, 0.8], limit: 50, with_payload: true });
      expect(await store.hasLexicalIndex('embedded_articles')).toBe(false);
    });
  });
});
