import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import type { Warehouse } from '../../lambdas/ports/warehouse.js';
import { fromApiGatewayEvent } from '../../lambdas/http/api-gateway.js';
import type { HttpReply } from '../../lambdas/http/contract.js';
import { RagHttpApi } from '../../lambdas/rag/http-api.js';
import { startLocalServer, type LocalServer } from '../../lambdas/http/local-server.js';
import { openRagService } from '../../lambdas/rag/open-service.js';
import { loadSettings } from '../../lambdas/settings/index.js';
import { collect } from '../support/async.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { startLlmServer, type LlmServer } from '../support/llm-server.js';
import { embeddingModelAvailable, realEmbedder } from '../support/models.js';
import { buildRagCorpus, type RagCorpus } from '../support/rag-corpus.js';
import { runTwin } from '../support/twin-cli.js';
import { startTwinServe } from '../support/twin-serve.js';

const ready = referenceCorpusAvailable() && embeddingModelAvailable();

/** An API Gateway REST proxy event, as the twin's Lambda receives it. */
function apiEvent(body: string | null, overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    resource: '/rag',
    path: '/rag',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Api-Key': 'key' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
    body,
    isBase64Encoded: false,
    ...overrides,
  };
}

async function text(reply: HttpReply): Promise<string> {
  return typeof reply.body === 'string' ? reply.body : (await collect(reply.body)).join('');
}

async function json(reply: HttpReply): Promise<Record<string, unknown>> {
  return JSON.parse(await text(reply)) as Record<string, unknown>;
}

/** Server-sent events as [type, data] pairs. */
function events(stream: string): [string, Record<string, unknown>][] {
  return stream
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const type = /^event: (.*)$/mu.exec(block)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/mu.exec(block)?.[1] ?? 'null') as Record<string, unknown>;
      return [type, data];
    });
}

describe.runIf(ready)('the twin API (POST /rag)', () => {
  let corpus: RagCorpus;
  let llm: LlmServer;
  let broken: LlmServer;
  let slow: LlmServer;
  let warehouse: Warehouse;
  const closers: (() => Promise<void>)[] = [];

  async function api(generatorUrl: string, env: Record<string, string> = {}): Promise<RagHttpApi> {
    const settings = loadSettings({
      ...corpus.env,
      OPENAI_BASE_URL: llm.url,
      TWIN_GENERATOR: 'openai',
      TWIN_GENERATOR_BASE_URL: generatorUrl,
      TWIN_RAG_MAX_QUERY_CHARS: '300',
      ...env,
    });
    const rag = await openRagService(settings, {
      authors: warehouse,
      embedder: await realEmbedder(),
      sinks: [],
      reranker: null,
    });
    closers.push(() => rag.close());
    return new RagHttpApi(() => Promise.resolve(rag.service), { corsOrigins: ['https://twin.example.com'] });
  }

  let good: RagHttpApi;

  beforeAll(async () => {
    corpus = await buildRagCorpus();
    llm = await startLlmServer({ tokenDelayMs: 20 });
    broken = await startLlmServer({ fault: () => 'server-error' });
    slow = await startLlmServer({ latencyMs: 3_000 });
    warehouse = await openWarehouse(corpus.settings);
    good = await api(llm.url);
  }, 120_000);

  afterAll(async () => {
    for (const close of closers) await close();
    await warehouse.close();
    for (const server of [llm, broken, slow]) await server.close();
    await corpus.dispose();
  });

  it('answers with the sources it used, a trace id and timings', async () => {
    const reply = await good.handle(
      fromApiGatewayEvent(apiEvent(JSON.stringify({ query: corpus.questions[1]?.query }))),
    );
    expect(reply.statusCode).toBe(200);
    const body = await json(reply);
    expect(body.answer).toEqual(expect.stringContaining('That is how I would write it.'));
    expect(reply.headers['x-trace-id']).toBe(body.trace_id);
    const [first] = body.sources as Record<string, unknown>[];
    expect(Object.keys(first ?? {}).sort()).toEqual(
      ['author', 'category', 'chunk_id', 'excerpt', 'link', 'platform', 'rank', 'score', 'title'].sort(),
    );
    expect(first?.rank).toBe(1);
    expect(first?.link).toMatch(/^https:\/\//u);
    expect(first?.author).toMatch(/Paul Iusztin|Maxime Labonne/u);
    expect(typeof first?.score).toBe('number');
    expect(String(first?.title).length).toBeGreaterThan(0);
    expect(String(first?.excerpt).length).toBeGreaterThan(0);
    expect(Object.keys(body.timings as object)).toEqual(expect.arrayContaining(['search', 'total']));
  });

  it('reads a base64-encoded body, as API Gateway may send it', async () => {
    const body = Buffer.from(JSON.stringify({ query: 'Q-learning epsilon', retrieve_only: true })).toString(
      'base64',
    );
    const reply = await good.handle(fromApiGatewayEvent(apiEvent(body, { isBase64Encoded: true })));
    expect(reply.statusCode).toBe(200);
    expect((await json(reply)).answer).toBeNull();
  });

  it('answers 415 for a body not sent as JSON, and reads a console test event without headers', async () => {
    const plain = await good.handle(
      fromApiGatewayEvent(apiEvent('{"query": "x"}', { headers: { 'Content-Type': 'text/plain' } })),
    );
    expect(plain.statusCode).toBe(415);
    expect(JSON.parse(plain.body as string)).toMatchObject({ field: 'content-type' });
    const headerless = await good.handle(
      fromApiGatewayEvent(
        apiEvent('{"query": "x"}', { headers: null as unknown as APIGatewayProxyEvent['headers'] }),
      ),
    );
    expect(headerless.statusCode).toBe(415);
  });

  it('streams server-sent events: the sources, the answer piece by piece, then the totals', async () => {
    const reply = await good.handle(
      fromApiGatewayEvent(apiEvent(JSON.stringify({ query: corpus.questions[0]?.query, stream: true }))),
    );
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const received = events(await text(reply));
    expect(received[0]?.[0]).toBe('retrieval');
    expect((received[0]?.[1].sources as unknown[]).length).toBeGreaterThan(0);
    const tokens = received.filter(([type]) => type === 'token').map(([, data]) => data.text as string);
    expect(tokens.length).toBeGreaterThan(3);
    const [type, done] = received.at(-1) ?? [];
    expect(type).toBe('done');
    expect(tokens.join('')).toBe(done?.answer);
  });

  it.each([
    ['no body', null, 400, 'query'],
    ['not JSON', '{"query": ', 400, 'body'],
    ['a query that is not text', '{"query": 42}', 400, 'query'],
    ['an empty query', '{"query": "   "}', 400, 'query'],
    ['control characters', JSON.stringify({ query: 'hi\u0007there' }), 400, 'query'],
    ['an unknown field', '{"query": "hi", "temperature": 2}', 400, 'temperature'],
    ['k out of range', '{"query": "hi", "k": 0}', 400, 'k'],
    ['expand not a boolean', '{"query": "hi", "expand": "yes"}', 400, 'expand'],
    ['a query over the limit', JSON.stringify({ query: 'word '.repeat(100) }), 413, 'query'],
    ['a body over 64 KiB', JSON.stringify({ query: 'hi', author: 'x'.repeat(70_000) }), 413, 'body'],
  ])('refuses %s with %i naming the field', async (_case, body, status, field) => {
    const reply = await good.handle(fromApiGatewayEvent(apiEvent(body)));
    expect(reply.statusCode).toBe(status);
    const answer = await json(reply);
    expect(answer.field).toBe(field);
    expect(answer.error).toEqual(expect.any(String));
  });

  it('answers 502 when the model fails and 504 when it is too slow, without internals', async () => {
    const down = await (
      await api(broken.url)
    ).handle(fromApiGatewayEvent(apiEvent('{"query": "write about RAG", "expand": false}')));
    expect(down.statusCode).toBe(502);
    expect(await json(down)).toEqual({ error: 'the model gpt-4o-mini failed (HTTP 500); try again later' });

    const late = await (
      await api(slow.url, { TWIN_GENERATION_TIMEOUT_MS: '1000' })
    ).handle(fromApiGatewayEvent(apiEvent('{"query": "write about RAG", "expand": false}')));
    expect(late.statusCode).toBe(504);
    const body = await text(late);
    expect(body).toContain('did not answer in time');
    expect(body).not.toMatch(/at .*\.(ts|js):\d+/u);
  }, 20_000);

  it('answers 503 with Retry-After while a twin that scaled to zero wakes up', async () => {
    // SageMaker Runtime's wire protocol: the reply an inference component with no copy gives.
    const requests: { url: string | undefined; headers: IncomingHttpHeaders }[] = [];
    const sageMaker = createServer((request, response) => {
      requests.push({ url: request.url, headers: request.headers });
      request.resume();
      request.on('end', () => {
        response.writeHead(400, {
          'content-type': 'application/json',
          'x-amzn-errortype': 'ValidationError',
        });
        response.end(
          JSON.stringify({
            message:
              'Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress (if configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig API.',
          }),
        );
      });
    });
    await new Promise<void>((resolve) => sageMaker.listen(0, '127.0.0.1', resolve));
    const awsEnv = {
      AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: `http://127.0.0.1:${String((sageMaker.address() as AddressInfo).port)}`,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
      AWS_SECRET_ACCESS_KEY: 'local-test-secret',
    };
    const saved = Object.fromEntries(Object.keys(awsEnv).map((name) => [name, process.env[name]]));
    Object.assign(process.env, awsEnv);
    try {
      const twin = await api(llm.url, {
        TWIN_GENERATOR: 'sagemaker',
        TWIN_SAGEMAKER_ENDPOINT: 'llm-twin-dev',
        TWIN_SAGEMAKER_INFERENCE_COMPONENT: 'llm-twin-dev-twin',
      });
      const reply = await twin.handle(
        fromApiGatewayEvent(apiEvent('{"query": "write about RAG", "expand": false}')),
      );
      expect(reply.statusCode).toBe(503);
      expect(reply.headers['retry-after']).toBe('300');
      expect(await json(reply)).toEqual({
        error:
          'sagemaker:llm-twin-dev/llm-twin-dev-twin is starting after scaling to zero while idle (about 5 minutes); try again later',
      });
      expect(requests).toHaveLength(1);
      expect(requests[0]?.url).toBe('/endpoints/llm-twin-dev/invocations');
      expect(requests[0]?.headers['x-amzn-sagemaker-inference-component']).toBe('llm-twin-dev-twin');
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) Reflect.deleteProperty(process.env, name);
        else process.env[name] = value;
      }
      await new Promise((resolve) => sageMaker.close(resolve));
    }
  }, 20_000);

  it('knows its one route, and answers CORS only for allowed origins', async () => {
    expect((await good.handle(fromApiGatewayEvent(apiEvent(null, { httpMethod: 'GET' })))).statusCode).toBe(
      405,
    );
    expect((await good.handle(fromApiGatewayEvent(apiEvent(null, { path: '/admin' })))).statusCode).toBe(404);
    const allowed = await good.handle(
      fromApiGatewayEvent(
        apiEvent(null, { httpMethod: 'OPTIONS', headers: { Origin: 'https://twin.example.com' } }),
      ),
    );
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://twin.example.com');
    const other = await good.handle(
      fromApiGatewayEvent(
        apiEvent(null, { httpMethod: 'OPTIONS', headers: { Origin: 'https://evil.example' } }),
      ),
    );
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  describe('served locally', () => {
    let server: LocalServer;
    beforeAll(async () => {
      server = await startLocalServer((request) => good.handle(request), {
        host: '127.0.0.1',
        port: 0,
        corsOrigins: [],
      });
    });
    afterAll(() => server.close());

    it('speaks the same contract over real HTTP, streaming as the answer is written', async () => {
      const started = performance.now();
      const response = await fetch(`${server.url}/rag`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: corpus.questions[2]?.query, stream: true }),
      });
      expect(response.status).toBe(200);
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const first = await reader.read();
      const firstAt = performance.now() - started;
      let rest = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        rest += new TextDecoder().decode(chunk.value);
      }
      const endAt = performance.now() - started;
      expect(new TextDecoder().decode(first.value)).toMatch(/^event: retrieval\n/u);
      expect(rest).toMatch(/event: done\n/u);
      // The model writes a word every 20 ms: the sources arrive well before the end of the answer.
      expect(endAt - firstAt).toBeGreaterThan(200);

      const bad = await fetch(`${server.url}/rag`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query": 1}',
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ field: 'query' });
    });
  });

  describe('from the command line', () => {
    const twin = (args: string[], env: Record<string, string>) =>
      runTwin(args, { ...corpus.env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '', ...env });

    it('twin ask prints the sources offline, and says how to get answers', async () => {
      const query = corpus.questions[1]?.query ?? '';
      const sourcesOnly = await twin(['ask', query, '--retrieve-only', '-k', '3'], {});
      expect(sourcesOnly.code).toBe(0);
      expect(sourcesOnly.stdout).toMatch(/Sources \(all authors; 1 queries; trace [0-9a-f-]{36}\):/u);
      expect(sourcesOnly.stdout).toMatch(/^ {2}\[3\] /mu);
      expect(sourcesOnly.stdout).not.toMatch(/^ {2}\[4\] /mu);

      const noModel = await twin(['ask', query], {});
      expect(noModel.code).toBe(3);
      expect(noModel.stdout).toContain('Sources (');
      expect(noModel.stderr).toContain('No generation model is configured');
    }, 60_000);

    it('twin ask streams the answer, then the sources', async () => {
      const result = await twin(['ask', corpus.questions[3]?.query ?? '', '--no-rerank'], {
        OPENAI_BASE_URL: llm.url,
        TWIN_GENERATOR: 'openai',
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        /^Here is my take on "[\s\S]*That is how I would write it\.\n\nSources \(Maxime Labonne \(self-query\); 3 queries/u,
      );
    }, 60_000);

    it('twin serve answers POST /rag until stopped', async () => {
      const serve = await startTwinServe([], {
        ...corpus.env,
        OPENAI_BASE_URL: llm.url,
        TWIN_GENERATOR: 'openai',
      });
      try {
        const response = await fetch(`${serve.url}/rag`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: 'write about Q-learning', expand: false }),
        });
        expect(response.status).toBe(200);
        expect(((await response.json()) as { answer: string }).answer).toContain('Here is my take');
      } finally {
        expect(await serve.stop()).toBe(0);
      }
    }, 60_000);

    it('twin serve refuses cross-site writes, rebound host names and bodies that are not JSON, writing nothing', async () => {
      const authorsDir = await mkdtemp(join(tmpdir(), 'twin-authors-'));
      const serve = await startTwinServe(['--authors-dir', authorsDir], {
        ...corpus.env,
        OPENAI_BASE_URL: llm.url,
        TWIN_GENERATOR: 'openai',
      });
      const { port } = new URL(serve.url);
      /** A raw request, so that Host and Origin are exactly what a hostile page would send. */
      const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const request = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (response) => {
            let text = '';
            response.on('data', (chunk: Buffer) => (text += chunk.toString()));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
          });
          request.once('error', reject);
          request.end(body);
        });
      const host = `127.0.0.1:${port}`;
      const links = JSON.stringify({ author: 'Eve Mallory', links: ['https://example.com/a'] });
      try {
        // A page on another site posting text/plain (no preflight): refused for its origin.
        const crossSite = await send(
          'PUT',
          '/authors',
          { host, origin: 'https://evil.example', 'content-type': 'text/plain' },
          links,
        );
        expect(crossSite.status).toBe(403);
        expect(JSON.parse(crossSite.body)).toMatchObject({ field: 'origin' });
        const nullOrigin = await send(
          'POST',
          '/collection-runs',
          { host, origin: 'null', 'content-type': 'application/json' },
          '{"author":"Eve Mallory"}',
        );
        expect(nullOrigin.status).toBe(403);
        const fetchMetadata = await send(
          'POST',
          '/rag',
          { host, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
          '{"query":"spend tokens"}',
        );
        expect(fetchMetadata.status).toBe(403);
        // DNS rebinding: the page's own name, now resolving to 127.0.0.1.
        const rebound = await send('GET', '/authors', { host: `rebind.example:${port}` });
        expect(rebound.status).toBe(421);
        // A script without an Origin must still declare its JSON.
        const textPlain = await send('PUT', '/authors', { host, 'content-type': 'text/plain' }, links);
        expect(textPlain.status).toBe(415);
        expect(JSON.parse(textPlain.body)).toMatchObject({ field: 'content-type' });
        const brokenEscape = await send('GET', '/collection-runs/%ZZ', { host });
        expect(brokenEscape.status).toBe(400);
        expect(await readdir(authorsDir)).toEqual([]);

        // The same origin, and localhost, still work.
        const own = await send(
          'PUT',
          '/authors',
          {
            host: `localhost:${port}`,
            origin: `http://localhost:${port}`,
            'content-type': 'application/json',
          },
          links,
        );
        expect(own.status).toBe(200);
        expect(await readdir(authorsDir)).toEqual(['eve-mallory.yaml']);
      } finally {
        expect(await serve.stop()).toBe(0);
        await rm(authorsDir, { recursive: true, force: true });
      }
    }, 60_000);

    it('twin serve refuses to listen beyond loopback without a token, and then asks every API call for it', async () => {
      await expect(startTwinServe(['--host', '0.0.0.0'], corpus.env)).rejects.toThrow(
        /set --token \(or TWIN_SERVE_TOKEN\)/u,
      );
      const token = 'a-long-enough-test-token';
      const serve = await startTwinServe(['--host', '127.0.0.1', '--token', token], corpus.env);
      try {
        expect((await fetch(`${serve.url}/stats`)).status).toBe(401);
        expect(
          (await fetch(`${serve.url}/stats`, { headers: { authorization: `Bearer ${token}` } })).status,
        ).toBe(200);
        expect(
          (
            await fetch(`${serve.url}/stats`, {
              headers: { authorization: 'Bearer wrong-token-of-some-length' },
            })
          ).status,
        ).toBe(401);
        // The web app's own files load without it; the page then sends the token it is given.
        expect((await fetch(`${serve.url}/`)).status).toBe(200);
      } finally {
        expect(await serve.stop()).toBe(0);
      }
    }, 60_000);
  });
});
