import { z } from 'zod';
import { InvalidInputError, RETRIEVAL_MODES, Uuid4Schema } from '../domain/index.js';
import {
  cleanPath,
  corsHeaders,
  describeInputError,
  json,
  parseJsonBody,
  type HttpReply,
  type HttpRequest,
} from '../http/contract.js';
import { OPERATOR } from '../access/principal.js';
import { AuthorNotAllowedError, scopeOfRequest, type ScopeResolver } from '../access/scope.js';
import { GenerationError } from '../ports/chat-model.js';
import { ConversationFullError } from '../ports/conversations.js';
import {
  ConversationNotFoundError,
  type ConversationalRequest,
  type Conversations,
} from './conversations.js';
import { QueryTooLongError } from './guardrails.js';
import { PromptBudgetError } from './prompt.js';
import type { RagAnswer, RagEvent, RagService } from './service.js';

const GENERATION_FAILURE_STATUS = { timeout: 504, upstream: 502, starting: 503 } as const;
/** A scaled-to-zero endpoint serves again after about five minutes (AWS reports 5 for a cold start). */
const STARTING_RETRY_SECONDS = 300;

export const RagBodySchema = z.strictObject({
  query: z.string({ error: 'query must be a string' }),
  k: z.number().int().min(1).max(50).optional(),
  expand: z.boolean().optional(),
  rerank: z.boolean().optional(),
  mode: z.enum(RETRIEVAL_MODES).optional(),
  author: z.string().trim().min(1).max(200).optional(),
  stream: z.boolean().optional(),
  retrieve_only: z.boolean().optional(),
  /** Continue this conversation (its id from an earlier reply); absent: the turn starts a new one. */
  conversation_id: Uuid4Schema.optional(),
});

const ListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().min(1).max(512).optional(),
});

const CONVERSATION_PATH = /^\/conversations\/([^/]+)$/u;

/** The paths the RAG API answers: POST /rag and the conversations. */
export function isRagPath(path: string): boolean {
  const clean = cleanPath(path);
  return clean === '/rag' || clean === '/conversations' || CONVERSATION_PATH.test(clean);
}

export interface HttpApiOptions {
  /** Origins allowed to call from a browser ("*" for any); none by default. */
  corsOrigins?: readonly string[];
  /** The authors each caller may use; every caller may use every author when absent. */
  access?: ScopeResolver;
  /** Where conversations are kept; without it, requests stand alone and conversation_id is refused. */
  conversations?: Conversations;
  /** Called for failures that become a 5xx, with the trace id sent to the caller. */
  onError?: (error: unknown, context: { status: number }) => void;
}

/**
 * The twin's HTTP contract, shared by the Lambda behind API Gateway and `twin serve`:
 * POST /rag {query, k?, expand?, rerank?, mode?, author?, stream?, retrieve_only?}. Bad input is a 400 naming
 * the field (413 for an over-long query or body), a failing model a 502, a slow one a 504; the
 * message never carries a stack trace. With stream: true the answer comes as server-sent events.
 */
export class RagHttpApi {
  constructor(
    private readonly service: () => Promise<RagService>,
    private readonly options: HttpApiOptions = {},
  ) {}

  async handle(request: HttpRequest): Promise<HttpReply> {
    const cors = this.corsHeaders(request);
    const reply = await this.route(request);
    return { ...reply, headers: { ...reply.headers, ...cors } };
  }

  private async route(request: HttpRequest): Promise<HttpReply> {
    const path = cleanPath(request.path);
    if (path === '/conversations' || CONVERSATION_PATH.test(path)) {
      return this.conversationRoute(request, path);
    }
    if (path !== '/rag') return json(404, { error: `no such resource: ${path}; use POST /rag` });
    if (request.method === 'OPTIONS') return { statusCode: 204, headers: {}, body: '' };
    if (request.method !== 'POST') return json(405, { error: 'use POST /rag' }, { allow: 'POST, OPTIONS' });
    try {
      const body = parseJsonBody(request, RagBodySchema, {
        message: 'the body must be a JSON object with a query',
        field: 'query',
      });
      const principal = request.principal ?? OPERATOR;
      const [service, scope] = await Promise.all([
        this.service(),
        scopeOfRequest(this.options.access, principal),
      ]);
      const asked = {
        scope,
        principal: principal.id,
        query: body.query,
        ...(body.k !== undefined ? { k: body.k } : {}),
        ...(body.expand !== undefined ? { expand: body.expand } : {}),
        ...(body.rerank !== undefined ? { rerank: body.rerank } : {}),
        ...(body.mode !== undefined ? { mode: body.mode } : {}),
        ...(body.author !== undefined ? { author: body.author } : {}),
        ...(body.retrieve_only ? { retrieveOnly: true } : {}),
      };
      const conversations = this.options.conversations;
      if (!conversations) {
        if (body.conversation_id) {
          throw new InvalidInputError('this deployment keeps no conversations', 'conversation_id');
        }
        if (body.stream) return await this.streamed(service.stream(asked));
        const answer = await service.answer(asked);
        return json(200, answer, { 'x-trace-id': answer.trace_id });
      }
      const prepared = await conversations.prepare(principal.id, asked, body.conversation_id);
      const keep = (answer: RagAnswer) => this.kept(principal.id, prepared, answer);
      if (body.stream) return await this.streamed(service.stream(prepared.request), keep);
      const answer = await keep(await service.answer(prepared.request));
      return json(200, answer, {
        'x-trace-id': answer.trace_id,
        ...(answer.conversation?.id ? { 'x-conversation-id': answer.conversation.id } : {}),
      });
    } catch (error) {
      return this.failure(error);
    }
  }

  /** The answer with its turn kept in its conversation, and the receipt saying so. */
  private async kept(owner: string, prepared: ConversationalRequest, answer: RagAnswer): Promise<RagAnswer> {
    const conversations = this.options.conversations;
    if (!conversations) return answer;
    return { ...answer, conversation: await conversations.record(owner, prepared, answer) };
  }

  /** GET /conversations, GET /conversations/{id}, DELETE /conversations/{id}: the caller's own only. */
  private async conversationRoute(request: HttpRequest, path: string): Promise<HttpReply> {
    const conversations = this.options.conversations;
    if (!conversations) return json(404, { error: 'this deployment keeps no conversations' });
    if (request.method === 'OPTIONS') return { statusCode: 204, headers: {}, body: '' };
    const owner = (request.principal ?? OPERATOR).id;
    const store = conversations.store;
    try {
      const id = CONVERSATION_PATH.exec(path)?.[1];
      if (id === undefined) {
        if (request.method !== 'GET')
          return json(405, { error: 'use GET /conversations' }, { allow: 'GET, OPTIONS' });
        const query = ListQuerySchema.safeParse(request.query ?? {});
        if (!query.success) {
          const field = String(query.error.issues[0]?.path[0] ?? 'limit');
          throw new InvalidInputError(`${field}: ${query.error.issues[0]?.message ?? 'invalid'}`, field);
        }
        return json(
          200,
          await store.list(owner, query.data.after ? query.data : { limit: query.data.limit }),
        );
      }
      if (!Uuid4Schema.safeParse(id).success) {
        throw new InvalidInputError('conversation_id: must be a UUID version 4 string', 'conversation_id');
      }
      if (request.method === 'GET') {
        const conversation = await store.get(owner, id);
        return conversation ? json(200, conversation) : this.failure(new ConversationNotFoundError());
      }
      if (request.method === 'DELETE') {
        return (await store.delete(owner, id))
          ? { statusCode: 204, headers: {}, body: '' }
          : this.failure(new ConversationNotFoundError());
      }
      return json(405, { error: 'use GET or DELETE /conversations/{id}' }, { allow: 'GET, DELETE, OPTIONS' });
    } catch (error) {
      return this.failure(error);
    }
  }

  /** Starts the stream before replying, so that failures before the first event are plain errors. */
  private async streamed(
    events: AsyncGenerator<RagEvent>,
    keep: (answer: RagAnswer) => Promise<RagAnswer> = (answer) => Promise.resolve(answer),
  ): Promise<HttpReply> {
    const first = await events.next();
    const describe = (error: unknown) => this.describeFailure(error);
    async function* body(): AsyncGenerator<string> {
      if (!first.done) yield serverSentEvent(first.value.type, first.value.data);
      try {
        for await (const event of events) {
          // The turn is kept once the whole answer is known; the last event says whether it was.
          const data = event.type === 'done' ? await keep(event.data) : event.data;
          yield serverSentEvent(event.type, data);
        }
      } catch (error) {
        const { status, body: failure } = describe(error);
        yield serverSentEvent('error', { status, ...failure });
      }
    }
    const traceId = !first.done && 'trace_id' in first.value.data ? first.value.data.trace_id : undefined;
    return {
      statusCode: 200,
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        ...(traceId ? { 'x-trace-id': traceId } : {}),
      },
      body: body(),
    };
  }

  private failure(error: unknown): HttpReply {
    const { status, body } = this.describeFailure(error);
    // A model that is starting (scale to zero) is back in minutes: tell clients when to ask again.
    return json(status, body, status === 503 ? { 'retry-after': String(STARTING_RETRY_SECONDS) } : {});
  }

  /** The status and body a failure is answered with, whole or mid-stream. */
  private describeFailure(error: unknown): { status: number; body: Record<string, unknown> } {
    if (error instanceof QueryTooLongError) {
      return { status: 413, body: { error: error.message, field: error.field ?? null } };
    }
    if (error instanceof ConversationNotFoundError)
      return { status: 404, body: { error: error.message, field: 'conversation_id' } };
    if (error instanceof ConversationFullError)
      return { status: 409, body: { error: error.message, field: 'conversation_id' } };
    if (error instanceof InvalidInputError) return describeInputError(error);
    if (error instanceof AuthorNotAllowedError)
      return { status: 403, body: { error: error.message, field: 'author' } };
    if (error instanceof PromptBudgetError)
      return { status: 413, body: { error: error.message, field: 'query' } };
    if (error instanceof GenerationError) {
      const status = GENERATION_FAILURE_STATUS[error.kind];
      this.options.onError?.(error, { status });
      return { status, body: { error: `${error.message}; try again later` } };
    }
    this.options.onError?.(error, { status: 500 });
    return { status: 500, body: { error: 'internal error; the request was logged' } };
  }

  private corsHeaders(request: HttpRequest): Record<string, string> {
    return corsHeaders(request, this.options.corsOrigins ?? [], 'GET, POST, DELETE, OPTIONS');
  }
}

function serverSentEvent(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}
