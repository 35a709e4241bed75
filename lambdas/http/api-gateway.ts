import { Readable } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ANONYMOUS, type Principal } from '../access/principal.js';
import type { HttpReply, HttpRequest } from './contract.js';

/**
 * API Gateway's REST proxy event as our HttpRequest (header names lower-cased, body decoded). The
 * console's test events send `headers: null`: that is no headers, not a failure.
 */
export function fromApiGatewayEvent(event: APIGatewayProxyEvent): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(
    (event.headers as APIGatewayProxyEvent['headers'] | null) ?? {},
  )) {
    headers[name.toLowerCase()] = value;
  }
  const body =
    event.body === null
      ? null
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  return { method: event.httpMethod, path: event.path, headers, body, query, principal: principalOf(event) };
}

/**
 * Who API Gateway let through: a Cognito user (its `sub`, and its groups) when a Cognito authorizer
 * ran, else the API key it checked, by id (never the key itself).
 */
export function principalOf(event: APIGatewayProxyEvent): Principal {
  const context = event.requestContext as APIGatewayProxyEvent['requestContext'] | undefined;
  const claims = (context?.authorizer as { claims?: Record<string, unknown> } | null | undefined)?.claims;
  const sub = typeof claims?.sub === 'string' ? claims.sub : undefined;
  if (sub) return { id: `user:${sub}`, groups: groupsOf(claims?.['cognito:groups']) };
  // Console test events and other hand-made events may leave out any part of the context.
  const identity = context?.identity as
    Partial<APIGatewayProxyEvent['requestContext']['identity']> | undefined;
  const apiKeyId = identity?.apiKeyId;
  return apiKeyId ? { id: `api-key:${apiKeyId}`, groups: [] } : ANONYMOUS;
}

/** Cognito sends groups as a list, or in REST API claims as one string ("a,b" or "[a b]"). */
function groupsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((group): group is string => typeof group === 'string');
  if (typeof value !== 'string') return [];
  return value
    .replace(/^\[|\]$/gu, '')
    .split(/[\s,]+/u)
    .filter(Boolean);
}

/** What a streaming Lambda returns to middy: the status and headers, then a body it pipes. */
export interface StreamingLambdaReply {
  statusCode: number;
  headers: Record<string, string>;
  body: string | Readable;
}

export function toStreamingReply(reply: HttpReply): StreamingLambdaReply {
  return {
    statusCode: reply.statusCode,
    headers: reply.headers,
    body: typeof reply.body === 'string' ? reply.body : Readable.from(reply.body),
  };
}

/** API Gateway's proxy result for a whole reply (functions that do not stream). */
export function toProxyResult(reply: HttpReply): APIGatewayProxyResult {
  const { body } = reply;
  if (typeof body !== 'string') {
    throw new TypeError('a non-streaming function must reply with a whole text body');
  }
  return { statusCode: reply.statusCode, headers: reply.headers, body };
}
