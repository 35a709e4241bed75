import { z } from 'zod';
import { InvalidInputError, RETRIEVAL_MODES } from '../domain/index.js';
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
import { QueryTooLongError } from './guardrails.js';
import { PromptBudgetError } from './prompt.js';
import type { RagEvent, RagService } from './service.js';

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
});

export interface HttpApiOptions {
  /** Origins allowed to call from a browser ("*" for any); none by default. */
  corsOrigins?: readonly string[];
  /** The authors each caller may use; every caller may use every author when absent. */
  access?: ScopeResolver;
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
      const ragRequest = {
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
      if (body.stream) return await this.streamed(service.stream(ragRequest));
      const answer = await service.answer(ragRequest);
      return json(200, answer, { 'x-trace-id': answer.trace_id });
    } catch (error) {
      return this.failure(error);
    }
  }

  /** Starts the stream before replying, so that failures before the first event are plain errors. */
  private async streamed(events: AsyncGenerator<RagEvent>): Promise<HttpReply> {
    const first = await events.next();
    const describe = (error: unknown) => this.describeFailure(error);
    async function* body(): AsyncGenerator<string> {
      if (!first.done) yield serverSentEvent(first.value.type, first.value.data);
      try {
        for await (const event of events) yield serverSentEvent(event.type, event.data);
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
    return corsHeaders(request, this.options.corsOrigins ?? [], 'POST, OPTIONS');
  }
}

function serverSentEvent(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}
