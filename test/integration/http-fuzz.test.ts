import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';
import { openWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import { openCrawlEnvironment } from '../../lambdas/collection/environment.js';
import { openFeatureStoreForReading } from '../../lambdas/features/services.js';
import { fromApiGatewayEvent } from '../../lambdas/http/api-gateway.js';
import type { HttpReply } from '../../lambdas/http/contract.js';
import { startLocalServer, type LocalServer } from '../../lambdas/http/local-server.js';
import type { Warehouse } from '../../lambdas/ports/warehouse.js';
import { RagHttpApi } from '../../lambdas/rag/http-api.js';
import { openRagService } from '../../lambdas/rag/open-service.js';
import { loadSettings } from '../../lambdas/settings/index.js';
import { bundleWebApp } from '../../lambdas/web-app/bundle.js';
import { isApiPath, localApp } from '../../lambdas/web-app/local-app.js';
import { AuthorLinksRepository } from '../../lambdas/workspace/author-links.js';
import { WorkspaceHttpApi } from '../../lambdas/workspace/http-api.js';
import { LocalCollectionRuns } from '../../lambdas/workspace/local-runs.js';
import { workspaceStats } from '../../lambdas/workspace/stats.js';
import { IN_CI, referenceCorpusAvailable } from '../support/environment.js';
import { embeddingModelAvailable, realEmbedder } from '../support/models.js';
import { buildRagCorpus, type RagCorpus } from '../support/rag-corpus.js';

const RUNS = IN_CI ? 2_000 : 300;

/** Text a client can put in a header line (printable ASCII), up to `max` characters. */
const headerText = (max: number) =>
  fc.string({
    unit: fc.constantFrom(...Array.from(' !#$%&()*+,-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}~"\'\\')),
    maxLength: max,
  });

const methods = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND');
const paths = fc.oneof(
  fc.constantFrom('/rag', '/rag/', '/authors', '/stats', '/collection-runs', '/', '/index.html', '/app.js'),
  fc.constantFrom(
    '/collection-runs/%ZZ',
    '/collection-runs/%',
    '/collection-runs/%E0%A4%A',
    '/../../etc/passwd',
    '/rag/..',
    '/%2e%2e/%2e%2e/',
  ),
  fc
    .array(
      fc.oneof(
        fc.webSegment(),
        fc.constantFrom('..', '.', '%', '%zz', '%00', 'rag', 'authors', 'collection-runs'),
      ),
      { maxLength: 4 },
    )
    .map((parts) => `/${parts.join('/')}`),
);
const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
);
const jsonish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue(),
    fc.record(
      {
        query: fc.oneof(
          fc.string(),
          fc.integer(),
          fc.constant(null),
          fc.string({ minLength: 2001, maxLength: 2100 }),
        ),
        k: fc.oneof(fc.integer({ min: -5, max: 80 }), fc.string(), fc.double()),
        mode: fc.oneof(fc.constantFrom('hybrid', 'dense', 'lexical'), fc.string()),
        expand: fc.oneof(fc.boolean(), fc.string()),
        rerank: fc.boolean(),
        author: fc.oneof(fc.string(), fc.constant('Maxime Labonne'), fc.uuid()),
        retrieve_only: fc.constant(true),
      },
      { requiredKeys: [] },
    ),
    fc.record(
      {
        author: fc.oneof(fc.string(), fc.constant('Ada Lovelace')),
        links: fc.array(fc.oneof(fc.webUrl(), fc.string()), { maxLength: 4 }),
      },
      { requiredKeys: [] },
    ),
    fc.array(tie('value'), { maxLength: 3 }),
  ),
})).value;
const bodies = fc.oneof(
  fc.constant(undefined),
  jsonish.map((value) => JSON.stringify(value)),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.integer({ min: 50, max: 2_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc.constant('{"query": "x"'),
  fc.integer({ min: 60_000, max: 80_000 }).map((size) => JSON.stringify({ query: 'x'.repeat(size) })),
);

/** A 4xx must say what is wrong, as JSON; nothing may leak a stack trace. */
function expectClientFacing(status: number, contentType: string | undefined, body: string): void {
  const clientFacing = (status >= 200 && status < 300) || (status >= 400 && status < 500);
  // On failure, the status and what the server said.
  expect(clientFacing ? 'ok' : `${String(status)}: ${body.slice(0, 300)}`).toBe('ok');
  expect(body).not.toMatch(/\n\s+at \S+ \(|\.ts:\d+:\d+/u);
  if (status >= 400 && body !== '' && contentType?.startsWith('application/json')) {
    const parsed = JSON.parse(body) as { error?: unknown; field?: unknown };
    expect(typeof parsed.error).toBe('string');
    if ([400, 413, 415].includes(status)) expect(typeof parsed.field).toBe('string');
  }
}

describe.runIf(referenceCorpusAvailable() && embeddingModelAvailable())('no input gets a 5xx', () => {
  let corpus: RagCorpus;
  let warehouse: Warehouse;
  let authorsDir: string;
  let server: LocalServer;
  let rag: RagHttpApi;
  let workspace: WorkspaceHttpApi;
  let runs: LocalCollectionRuns;
  const closers: (() => Promise<void>)[] = [];
  const errors: unknown[] = [];

  beforeAll(async () => {
    corpus = await buildRagCorpus();
    warehouse = await openWarehouse(corpus.settings);
    authorsDir = await mkdtemp(join(tmpdir(), 'twin-fuzz-authors-'));
    const opened = await openRagService(corpus.settings, {
      authors: warehouse,
      embedder: await realEmbedder(),
      sinks: [],
      generator: null,
      queryModel: null,
      reranker: null,
    });
    closers.push(() => opened.close());
    const reading = await openFeatureStoreForReading(corpus.settings);
    closers.push(() => reading.close());
    runs = new LocalCollectionRuns({
      warehouse,
      // Names resolve to nothing: a fuzzed collection run fails at once and reaches no network.
      openEnvironment: () =>
        openCrawlEnvironment(loadSettings({}), { network: { resolver: () => Promise.resolve([]) } }),
      concurrency: 1,
      perLinkTimeoutMs: 5_000,
      onError: (error) => errors.push(error),
    });
    const onError = (error: unknown) => errors.push(error);
    rag = new RagHttpApi(() => Promise.resolve(opened.service), { corsOrigins: [], onError });
    workspace = new WorkspaceHttpApi(
      () =>
        Promise.resolve({
          links: new AuthorLinksRepository(new FolderArtifactStore(authorsDir)),
          runs,
          stats: () => workspaceStats(warehouse, reading.features),
        }),
      { corsOrigins: [], onError },
    );
    server = await startLocalServer(localApp({ rag, workspace, assets: bundleWebApp() }), {
      host: '127.0.0.1',
      port: 0,
      corsOrigins: [],
      isPublic: (path) => !isApiPath(path),
    });
  }, 120_000);

  afterAll(async () => {
    await server.close();
    await runs.settle();
    for (const close of closers) await close();
    await warehouse.close();
    await corpus.dispose();
    await rm(authorsDir, { recursive: true, force: true });
  });

  it(`twin serve answers ${String(RUNS)} random requests with a 2xx or a 4xx that says why`, async () => {
    const { port } = new URL(server.url);
    const hosts = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`) },
      { weight: 1, arbitrary: headerText(40) },
    );
    await fc.assert(
      fc.asyncProperty(
        methods,
        paths,
        hosts,
        fc.option(contentTypes, { nil: undefined }),
        fc.option(fc.constantFrom('null', 'https://evil.example', `http://127.0.0.1:${port}`), {
          nil: undefined,
        }),
        fc.dictionary(
          fc.constantFrom('x-api-key', 'authorization', 'accept', 'x-custom', 'sec-fetch-site', 'cookie'),
          fc.oneof(
            headerText(64),
            fc.array(headerText(16), { minLength: 2, maxLength: 3 }),
            headerText(8_000),
          ),
        ),
        bodies,
        async (method, path, host, contentType, origin, extra, body) => {
          const headers: Record<string, string | string[]> = { ...extra, host };
          if (contentType) headers['content-type'] = contentType;
          if (origin) headers.origin = origin;
          const reply = await new Promise<{ status: number; type: string | undefined; body: string }>(
            (resolve, reject) => {
              const request = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (response) => {
                let text = '';
                response.setEncoding('utf8');
                response.on('data', (chunk: string) => (text += chunk));
                response.on('end', () =>
                  resolve({
                    status: response.statusCode ?? 0,
                    type: response.headers['content-type'],
                    body: text,
                  }),
                );
              });
              request.once('error', reject);
              request.end(method === 'GET' || method === 'HEAD' ? undefined : body);
            },
          );
          expectClientFacing(reply.status, reply.type, method === 'HEAD' ? '' : reply.body);
        },
      ),
      { numRuns: RUNS },
    );
    expect(errors.filter((error) => !String(error).includes('cannot resolve'))).toEqual([]);
  }, 600_000);

  it(`the API Gateway adapters answer ${String(RUNS)} random events with a 2xx or a 4xx that says why`, async () => {
    const events = fc.record({
      httpMethod: methods,
      path: paths,
      headers: fc.oneof(
        fc.constant(null),
        fc.dictionary(
          fc.constantFrom('Content-Type', 'content-type', 'X-Api-Key', 'Origin', 'Accept'),
          fc.oneof(contentTypes, headerText(64)),
        ),
      ),
      body: fc.oneof(
        fc.constant(null),
        bodies.map((body) => body ?? null),
      ),
      isBase64Encoded: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(events, async (fields) => {
        const event = { ...fields, resource: fields.path } as unknown as APIGatewayProxyEvent;
        const request = fromApiGatewayEvent(event);
        const api = isApiPath(request.path) && !request.path.startsWith('/rag') ? workspace : rag;
        const reply: HttpReply = await api.handle(request);
        const text = typeof reply.body === 'string' ? reply.body : '';
        expectClientFacing(reply.statusCode, reply.headers['content-type'], text);
      }),
      { numRuns: RUNS },
    );
  }, 600_000);
});
