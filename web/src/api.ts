/** Calls to the twin's API, on the page's own origin (twin serve locally, CloudFront on AWS). */

import { storedIdToken } from './sign-in.js';
import type { UploadTicket } from './types.js';

const API_KEY_STORAGE = 'llm-twin-api-key';

/** A reply that was not 2xx: the server's message and the field it names, if any. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly field: string | null,
  ) {
    super(message);
  }
}

export function rememberApiKey(key: string): void {
  if (key) sessionStorage.setItem(API_KEY_STORAGE, key);
  else sessionStorage.removeItem(API_KEY_STORAGE);
}

export const storedApiKey = (): string => sessionStorage.getItem(API_KEY_STORAGE) ?? '';

function headers(): Record<string, string> {
  // Signed in with Cognito: the ID token is what the API's authorizer checks.
  const idToken = storedIdToken();
  if (idToken) return { 'content-type': 'application/json', authorization: idToken };
  const key = storedApiKey();
  // The key is API Gateway's x-api-key on AWS, and `twin serve --token`'s bearer token locally.
  return {
    'content-type': 'application/json',
    ...(key ? { 'x-api-key': key, authorization: `Bearer ${key}` } : {}),
  };
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(),
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError('the twin cannot be reached; is `twin serve` running?', 0, null);
  }
  if (!response.ok) {
    const failure = (await response.json().catch(() => ({}))) as { error?: string; field?: string | null };
    const hint =
      response.status === 401 || response.status === 403 ? ' (check the API key under Connection)' : '';
    throw new ApiError(
      `${failure.error ?? `the server answered ${String(response.status)}`}${hint}`,
      response.status,
      failure.field ?? null,
    );
  }
  return response;
}

/**
 * Sends a file the way an upload ticket says: a multipart POST of the ticket's fields and then the
 * file. The API key goes only to this server (locally), never to S3 (on AWS).
 */
export async function uploadFile(ticket: UploadTicket, file: Blob): Promise<void> {
  const form = new FormData();
  for (const [name, value] of Object.entries(ticket.fields)) form.append(name, value);
  form.append('file', file, 'export.zip');
  const sameOrigin = new URL(ticket.url, location.href).origin === location.origin;
  const key = storedApiKey();
  const auth = sameOrigin && key ? { 'x-api-key': key, authorization: `Bearer ${key}` } : undefined;
  let response: Response;
  try {
    response = await fetch(ticket.url, { method: 'POST', body: form, ...(auth ? { headers: auth } : {}) });
  } catch {
    throw new ApiError('the upload could not be sent; check the connection and try again', 0, null);
  }
  if (!response.ok) {
    const text = await response.text();
    const message = /<Message>([^<]*)<\/Message>/u.exec(text)?.[1] ?? text.slice(0, 200);
    throw new ApiError(
      `the upload was refused (${String(response.status)}): ${message}`,
      response.status,
      'file',
    );
  }
}

export async function call<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
  return (await (await send(method, path, body)).json()) as T;
}

/** DELETEs a resource (204, no body). */
export async function remove(path: string): Promise<void> {
  await send('DELETE', path);
}

export interface ServerEvent {
  type: string;
  data: unknown;
}

/** POSTs and reads the reply as server-sent events, yielding each as it arrives. */
export async function* streamEvents(path: string, body: unknown): AsyncGenerator<ServerEvent> {
  const response = await send('POST', path, body);
  if (!response.body) throw new ApiError('the reply has no body', response.status, null);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const event = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) yield event;
      end = buffer.indexOf('\n\n');
    }
  }
}

function parseEvent(block: string): ServerEvent | undefined {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) type = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (data.length === 0) return undefined;
  return { type, data: JSON.parse(data.join('\n')) as unknown };
}
