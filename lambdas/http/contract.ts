import type { z } from 'zod';
import type { Principal } from '../access/principal.js';
import { describeZodIssues, firstFailingField, InvalidInputError } from '../domain/index.js';

/** An HTTP request, as API Gateway or the local server hands it over. */
export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: string | null;
  /** Query string parameters (none when absent). */
  query?: Record<string, string>;
  /** The raw bytes of a multipart/form-data body (an uploaded file); `body` is null then. */
  bytes?: Buffer;
  /**
   * Who is calling, as the transport established it (the local server's tokens, API Gateway's key
   * or Cognito user). In-process callers that set none act as the operator.
   */
  principal?: Principal;
}

/** A reply: a whole body, or a stream of text (answers sent as they are written). */
export interface HttpReply {
  statusCode: number;
  headers: Record<string, string>;
  body: string | AsyncIterable<string>;
}

/** Bodies above this size are refused before parsing (413). */
export const MAX_BODY_BYTES = 64 * 1024;

/** A body over MAX_BODY_BYTES: answered 413, not 400. */
export class BodyTooLargeError extends InvalidInputError {}

/** A body not sent as application/json: answered 415. */
export class UnsupportedMediaTypeError extends InvalidInputError {}

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpReply & { body: string } {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** The status (400, or 413 for a body too large) and body an input error is answered with. */
export function describeInputError(error: InvalidInputError): {
  status: number;
  body: { error: string; field: string | null };
} {
  return {
    status: error instanceof BodyTooLargeError ? 413 : error instanceof UnsupportedMediaTypeError ? 415 : 400,
    body: { error: error.message, field: error.field ?? null },
  };
}

export function inputErrorReply(error: InvalidInputError): HttpReply & { body: string } {
  const { status, body } = describeInputError(error);
  return json(status, body);
}

/**
 * Parses a JSON body against a schema. Every problem is an InvalidInputError naming the field: a body
 * not declared as application/json (`content-type`, 415: a browser page on another site can send
 * text/plain without asking first, never application/json), an absent or blank body (`emptyField`),
 * bad JSON (`body`), an unknown key (the key), a wrong value.
 */
export function parseJsonBody<S extends z.ZodType>(
  request: Pick<HttpRequest, 'body' | 'headers'>,
  schema: S,
  emptyBody: { message: string; field: string },
): z.output<S> {
  const raw = request.body;
  const type = headerOf(request, 'content-type') ?? '';
  if (!/^application\/json\s*(;|$)/iu.test(type.trim())) {
    throw new UnsupportedMediaTypeError(
      `send the body as JSON with content-type: application/json (got ${type.trim() === '' ? 'none' : JSON.stringify(type.slice(0, 100))})`,
      'content-type',
    );
  }
  if (raw === null || raw.trim() === '') throw new InvalidInputError(emptyBody.message, emptyBody.field);
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) {
    throw new BodyTooLargeError(`the body is over ${String(MAX_BODY_BYTES / 1024)} KiB`, 'body');
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidInputError('the body is not valid JSON', 'body');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const [first] = parsed.error.issues;
    // An unknown field is reported at the object's level; name the field itself.
    // A body that is not an object at all (`false`, `""`) is wrong as a whole: the field is the body.
    const field =
      (first?.code === 'unrecognized_keys' ? first.keys[0] : firstFailingField(parsed.error)) ?? 'body';
    throw new InvalidInputError(describeZodIssues(parsed.error).join('; '), field);
  }
  return parsed.data;
}

/** A header's value whatever the case of its name (API Gateway keeps the client's spelling). */
export function headerOf(request: Pick<HttpRequest, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(request.headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** CORS headers for an allowed origin ("*" allows any); none for the others. */
export function corsHeaders(
  request: HttpRequest,
  allowed: readonly string[],
  methods: string,
): Record<string, string> {
  const origin = request.headers.origin;
  if (!origin || allowed.length === 0) return {};
  if (!allowed.includes('*') && !allowed.includes(origin)) return {};
  return {
    'access-control-allow-origin': allowed.includes('*') ? '*' : origin,
    'access-control-allow-methods': methods,
    'access-control-allow-headers': 'content-type, x-api-key, authorization',
    'access-control-expose-headers': 'x-trace-id',
    vary: 'Origin',
  };
}

/** The path without trailing slashes ("/" stays "/"). */
export const cleanPath = (path: string): string => path.replace(/\/+$/u, '') || '/';
