import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConversationStore } from '../../lambdas/adapters/conversations/dynamodb.js';
import { openWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import { fromApiGatewayEvent } from '../../lambdas/http/api-gateway.js';
import type { HttpReply } from '../../lambdas/http/contract.js';
import type { ConversationStore } from '../../lambdas/ports/conversations.js';
import type { RequestTrace } from '../../lambdas/ports/request-trace.js';
import type { Warehouse } from '../../lambdas/ports/warehouse.js';
import { Conversations } from '../../lambdas/rag/conversations.js';
import { RagHttpApi } from '../../lambdas/rag/http-api.js';
import { openRagService } from '../../lambdas/rag/open-service.js';
import { loadSettings } from '../../lambdas/settings/index.js';
import { collect } from '../support/async.js';
import { startLocalDynamoDb } from '../support/dynamodb.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { startLlmServer, type LlmServer } from '../support/llm-server.js';
import { embeddingModelAvailable, realEmbedder } from '../support/models.js';
import { buildRagCorpus, type RagCorpus } from '../support/rag-corpus.js';
import { runTwin } from '../support/twin-cli.js';
import { startTwinServe } from '../support/twin-serve.js';

const ready = referenceCorpusAvailable() && embeddingModelAvailable();

/** A request as API Gateway hands it to the twin's Lambda, from the caller with this API key. */
function apiEvent(
  method: string,
  path: string,
  body: unknown,
  apiKeyId = 'alice-key',
  query: Record<string, string> | null = null,
): APIGatewayProxyEvent {
  return {
    resource: path,
    path,
    httpMethod: method,
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: query,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: { identity: { apiKeyId } } as unknown as APIGatewayProxyEvent['requestContext'],
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

async function json(reply: HttpReply): Promise<Record<string, unknown>> {
  const text = typeof reply.body === 'string' ? reply.body : (await collect(reply.body)).join('');
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

const LIMITS = { maxTurns: 3, retentionDays: 30 };

describe.runIf(ready)('conversations with the twin', () => {
  let corpus: RagCorpus;
  let llm: LlmServer;
  let warehouse: Warehouse;
  let dynamo: Awaited<ReturnType<typeof startLocalDynamoDb>>;
  let store: ConversationStore;
  const traces: RequestTrace[] = [];
  let api: (conversations: ConversationStore) => RagHttpApi;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    corpus = await buildRagCorpus();
    llm = await startLlmServer();
    warehouse = await openWarehouse(corpus.settings);
    dynamo = await startLocalDynamoDb();
    await dynamo.createConversationsTable('twin-conversations');
    store = new DynamoDbConversationStore(dynamo.client, 'twin-conversations');
    const settings = loadSettings({
      ...corpus.env,
      OPENAI_BASE_URL: llm.url,
      TWIN_GENERATOR: 'openai',
      TWIN_GENERATOR_BASE_URL: llm.url,
    });
    const rag = await openRagService(settings, {
      authors: warehouse,
      embedder: await realEmbedder(),
      sinks: [{ record: (trace) => Promise.resolve(void traces.push(trace)) }],
      reranker: null,
    });
    closers.push(() => rag.close());
    api = (conversations) =>
      new RagHttpApi(() => Promise.resolve(rag.service), {
        conversations: new Conversations(conversations, LIMITS, settings.retrieval.maxQueryChars),
      });
  }, 120_000);

  afterAll(async () => {
    for (const close of closers) await close();
    await warehouse.close();
    await dynamo.close();
    await llm.close();
    await corpus.dispose();
  });

  it('through API Gateway: a follow-up retrieves with the topic it follows and writes from the previous answer', async () => {
    const twin = api(store);
    const first = await twin.handle(
      fromApiGatewayEvent(
        apiEvent('POST', '/rag', { query: 'Write a post about Q-learning', expand: false }),
      ),
    );
    const firstBody = await json(first);
    const conversation = firstBody.conversation as { id: string; turn: number; saved: boolean };
    expect(conversation).toMatchObject({ turn: 0, saved: true });
    expect(first.headers['x-conversation-id']).toBe(conversation.id);

    const second = await twin.handle(
      fromApiGatewayEvent(
        apiEvent('POST', '/rag', {
          query: 'Make it shorter',
          expand: false,
          conversation_id: conversation.id,
        }),
      ),
    );
    const secondBody = await json(second);

    expect(second.statusCode).toBe(200);
    expect(secondBody.conversation).toEqual({ id: conversation.id, turn: 1, saved: true });
    // The trace shows the rewrite: the follow-up carried with the topic of the first turn.
    const trace = traces.find((candidate) => candidate.traceId === secondBody.trace_id);
    const rewrite = trace?.steps.find((step) => step.name === 'rewrite');
    expect(rewrite?.output).toEqual({
      query: 'Write a post about Q-learning (Make it shorter)',
      by: 'query model',
    });
    expect(trace?.steps.find((step) => step.name === 'prompt')?.output).toMatchObject({ earlier_turns: 1 });
    // The prompt the model saw carries the first answer, then the new request.
    const prompt = llm.prompts.at(-1) ?? '';
    expect(prompt).toContain(`You answered: ${String(firstBody.answer)}`);
    expect(prompt.indexOf('Earlier in this conversation')).toBeLessThan(
      prompt.indexOf('Request: Make it shorter'),
    );

    const shown = await json(
      await twin.handle(fromApiGatewayEvent(apiEvent('GET', `/conversations/${conversation.id}`, undefined))),
    );
    expect(shown).toMatchObject({ id: conversation.id, title: 'Write a post about Q-learning', turns: 2 });
    expect((shown.history as Record<string, unknown>[]).map((turn) => turn.rewrittenQuery)).toEqual([
      undefined,
      'Write a post about Q-learning (Make it shorter)',
    ]);
  }, 60_000);

  it("keeps conversations private: another caller's is a 404, lists are one's own, and a delete removes it", async () => {
    const twin = api(store);
    const started = await json(
      await twin.handle(
        fromApiGatewayEvent(apiEvent('POST', '/rag', { query: 'Notes on RAG', expand: false }, 'bob-key')),
      ),
    );
    const id = (started.conversation as { id: string }).id;

    const asAlice = await twin.handle(
      fromApiGatewayEvent(apiEvent('GET', `/conversations/${id}`, undefined)),
    );
    const continuedByAlice = await twin.handle(
      fromApiGatewayEvent(apiEvent('POST', '/rag', { query: 'more', conversation_id: id })),
    );
    const deletedByAlice = await twin.handle(
      fromApiGatewayEvent(apiEvent('DELETE', `/conversations/${id}`, undefined)),
    );
    const bobsList = await json(
      await twin.handle(fromApiGatewayEvent(apiEvent('GET', '/conversations', undefined, 'bob-key'))),
    );
    const alicesList = await json(
      await twin.handle(fromApiGatewayEvent(apiEvent('GET', '/conversations', undefined))),
    );

    expect(asAlice.statusCode).toBe(404);
    expect(await json(asAlice)).toMatchObject({ field: 'conversation_id' });
    expect(continuedByAlice.statusCode).toBe(404);
    expect(deletedByAlice.statusCode).toBe(404);
    expect((bobsList.conversations as { id: string }[]).map((c) => c.id)).toEqual([id]);
    expect((alicesList.conversations as { id: string }[]).map((c) => c.id)).not.toContain(id);

    const deleted = await twin.handle(
      fromApiGatewayEvent(apiEvent('DELETE', `/conversations/${id}`, undefined, 'bob-key')),
    );
    expect(deleted.statusCode).toBe(204);
    expect(
      (await twin.handle(fromApiGatewayEvent(apiEvent('GET', `/conversations/${id}`, undefined, 'bob-key'))))
        .statusCode,
    ).toBe(404);
  }, 60_000);

  it('answers a malformed id 400 and a full conversation 409, naming the field, before any work', async () => {
    const twin = api(store);
    const malformed = await twin.handle(
      fromApiGatewayEvent(apiEvent('POST', '/rag', { query: 'hi', conversation_id: 'not-an-id' })),
    );
    expect(malformed.statusCode).toBe(400);
    expect(await json(malformed)).toMatchObject({ field: 'conversation_id' });
    const badPage = await twin.handle(
      fromApiGatewayEvent(apiEvent('GET', '/conversations', undefined, 'alice-key', { limit: '0' })),
    );
    expect(badPage.statusCode).toBe(400);
    expect(await json(badPage)).toMatchObject({ field: 'limit' });

    const started = await json(
      await twin.handle(fromApiGatewayEvent(apiEvent('POST', '/rag', { query: 'one', expand: false }))),
    );
    const id = (started.conversation as { id: string }).id;
    for (const query of ['two', 'three']) {
      await twin.handle(
        fromApiGatewayEvent(apiEvent('POST', '/rag', { query, expand: false, conversation_id: id })),
      );
    }
    const requestsBefore = llm.requests;
    const full = await twin.handle(
      fromApiGatewayEvent(apiEvent('POST', '/rag', { query: 'four', expand: false, conversation_id: id })),
    );
    expect(full.statusCode).toBe(409);
    expect(await json(full)).toMatchObject({
      field: 'conversation_id',
      error: expect.stringMatching(/start a new conversation/u) as unknown,
    });
    expect(llm.requests).toBe(requestsBefore);
  }, 60_000);

  it('still answers when the turn cannot be stored, and says it was not saved', async () => {
    const failing: ConversationStore = {
      ...store,
      start: () => Promise.reject(new Error('DynamoDB is unreachable')),
    };
    const reply = await api(failing).handle(
      fromApiGatewayEvent(apiEvent('POST', '/rag', { query: 'Write about LLM evaluation', expand: false })),
    );
    const body = await json(reply);
    expect(reply.statusCode).toBe(200);
    expect(body.answer).toEqual(expect.stringContaining('That is how I would write it.'));
    expect(body.conversation).toMatchObject({
      id: null,
      saved: false,
      reason: expect.stringMatching(/try again/u) as unknown,
    });
  }, 60_000);

  it('on the command line: twin ask keeps the turn, --conversation continues it, twin conversations lists, shows and deletes it', async () => {
    const twin = (args: string[]) =>
      runTwin(args, {
        ...corpus.env,
        OPENAI_API_KEY: 'test',
        OPENAI_BASE_URL: llm.url,
        TWIN_GENERATOR: 'openai',
      });
    const first = await twin(['ask', 'Write about feature stores', '--no-expand', '--no-rerank']);
    const id = /Conversation ([0-9a-f-]{36}) \(turn 1\)/u.exec(first.stderr)?.[1] ?? '';
    expect(first.code, first.stderr).toBe(0);
    expect(id).not.toBe('');

    const second = await twin(['ask', 'Now shorter', '--conversation', id, '--no-expand', '--no-rerank']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`Conversation ${id} (turn 2)`);
    expect(llm.prompts.at(-1)).toContain('Asked: Write about feature stores');

    expect((await twin(['conversations', 'list'])).stdout).toMatch(
      new RegExp(`^${id} .* 2 turns {2}Write about feature stores$`, 'mu'),
    );
    const shown = await twin(['conversations', 'show', id]);
    expect(shown.stdout).toContain('[2] Now shorter');
    expect(shown.stdout).toContain('searched as: Write about feature stores (Now shorter)');
    expect((await twin(['conversations', 'delete', id])).stdout).toContain(`Deleted conversation ${id}.`);
    const gone = await twin(['conversations', 'show', id]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('twin conversations list shows the ones kept');
    const unknown = await twin(['ask', 'more', '--conversation', id]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no such conversation');
  }, 120_000);

  it('through twin serve: two turns over HTTP, kept in the embedded store, the second written from the first', async () => {
    const serve = await startTwinServe([], {
      ...corpus.env,
      OPENAI_BASE_URL: llm.url,
      TWIN_GENERATOR: 'openai',
    });
    try {
      const ask = async (body: Record<string, unknown>) => {
        const response = await fetch(`${serve.url}/rag`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ expand: false, ...body }),
        });
        return (await response.json()) as { answer: string; conversation: { id: string; turn: number } };
      };
      const first = await ask({ query: 'Write about vector databases' });
      const second = await ask({ query: 'Now as a LinkedIn post', conversation_id: first.conversation.id });

      expect(second.conversation).toMatchObject({ id: first.conversation.id, turn: 1 });
      expect(llm.prompts.at(-1)).toContain(`You answered: ${first.answer}`);
      const shown = (await (await fetch(`${serve.url}/conversations/${first.conversation.id}`)).json()) as {
        history: { query: string; rewrittenQuery?: string }[];
      };
      expect(shown.history.map((turn) => turn.rewrittenQuery ?? turn.query)).toEqual([
        'Write about vector databases',
        'Write about vector databases (Now as a LinkedIn post)',
      ]);
      const removed = await fetch(`${serve.url}/conversations/${first.conversation.id}`, {
        method: 'DELETE',
      });
      expect(removed.status).toBe(204);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  }, 90_000);
});
