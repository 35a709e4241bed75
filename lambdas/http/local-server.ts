import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_EXPORT_UPLOAD_BYTES } from '../ports/export-uploads.js';
import { MAX_BODY_BYTES, json, type HttpReply, type HttpRequest } from './contract.js';
import { guardLocalRequest, type LocalGuardOptions } from './local-guard.js';

export type HttpHandler = (request: HttpRequest) => Promise<HttpReply>;

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves an HttpHandler on a local port with node:http: the same contract as the Lambda behind API
 * Gateway, for `twin serve`. Bodies are read up to a limit; streamed replies are written as they come.
 */
export async function startLocalServer(
  handle: HttpHandler,
  options: { host: string; port: number } & Pick<
    LocalGuardOptions,
    'corsOrigins' | 'token' | 'isPublic' | 'principals'
  >,
): Promise<LocalServer> {
  // The guard needs the bound port, known once listening; nothing is answered before that.
  const bound: { guard?: LocalGuardOptions } = {};
  const guarded: HttpHandler = async (request) => {
    if (!bound.guard) return json(503, { error: 'the server is starting' });
    const checked = await guardLocalRequest(request, bound.guard);
    return 'refused' in checked ? checked.refused : handle({ ...request, principal: checked.principal });
  };
  const server: Server = createServer((request, response) => {
    void serve(guarded, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  bound.guard = {
    host: options.host,
    port,
    corsOrigins: options.corsOrigins,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.isPublic ? { isPublic: options.isPublic } : {}),
    ...(options.principals ? { principals: options.principals } : {}),
  };
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${String(port)}`,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function serve(handle: HttpHandler, request: IncomingMessage, response: ServerResponse): Promise<void> {
  try {
    const multipart = /^multipart\/form-data/iu.test(request.headers['content-type'] ?? '');
    const bytes = await readBody(request, multipart ? MAX_EXPORT_UPLOAD_BYTES : MAX_BODY_BYTES);
    const body = multipart || !bytes ? null : bytes.toString('utf8');
    const path = pathOf(request.url ?? '/');
    const reply =
      bytes === undefined
        ? tooLarge()
        : path === undefined
          ? json(400, { error: 'the request target is not a path', field: 'path' })
          : await handle({
              method: request.method ?? 'GET',
              path,
              headers: Object.fromEntries(
                Object.entries(request.headers).map(([name, value]) => [
                  name,
                  Array.isArray(value) ? value.join(', ') : value,
                ]),
              ),
              body,
              query: queryOf(request.url ?? '/'),
              ...(multipart && bytes ? { bytes } : {}),
            });
    response.writeHead(reply.statusCode, reply.headers);
    if (typeof reply.body === 'string') {
      response.end(reply.body);
      return;
    }
    for await (const piece of reply.body) {
      if (response.destroyed) break;
      response.write(piece);
    }
    response.end();
  } catch {
    // The handler answers every failure itself; this is a broken connection or a bug in writing.
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
    response.end();
  }
}

/**
 * The body, or undefined when it is over the limit (the rest is not read). Uploads (multipart) may
 * be as large as an export; everything else is JSON and small.
 */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | null | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit + 64 * 1024) return undefined;
    chunks.push(chunk);
  }
  return chunks.length === 0 ? null : Buffer.concat(chunks);
}

/** The request target's query parameters (the last value of a repeated one). */
function queryOf(target: string): Record<string, string> {
  try {
    return Object.fromEntries(new URL(target, 'http://localhost').searchParams);
  } catch {
    return {};
  }
}

/**
 * The request target's path, with dot segments resolved. Read against a fixed origin, so that a
 * target such as `//` or `//other.example/x` stays a path on this server instead of naming a host.
 */
function pathOf(target: string): string | undefined {
  try {
    return new URL(`http://localhost${target.startsWith('/') ? '' : '/'}${target}`).pathname;
  } catch {
    return undefined;
  }
}

function tooLarge(): HttpReply {
  return {
    statusCode: 413,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ error: 'the body is too large', field: 'body' }),
  };
}
