/** Calls to the twin's API, on the page's own origin (twin serve locally, CloudFront on AWS). */

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

export async function call<T>(method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<T> {
  return (await (await send(method, path, body)).json()) as T;
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
