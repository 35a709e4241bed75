import { Readable } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
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
  return { method: event.httpMethod, path: event.path, headers, body };
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
