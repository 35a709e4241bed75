import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { headerOf, json, type HttpReply, type HttpRequest } from './contract.js';

/** What `twin serve` accepts besides the API's own validation. */
export interface LocalGuardOptions {
  /** The address it listens on, as given (127.0.0.1, ::1, localhost, 0.0.0.0, a LAN address...). */
  host: string;
  /** The port it is bound to. */
  port: number;
  /** Other browser origins allowed to call the API (CORS), "*" for any. */
  corsOrigins: readonly string[];
  /** Required on every API request (bearer or x-api-key) when given; required off loopback. */
  token?: string;
  /** Paths anyone may GET without the token (the web app's own files). */
  isPublic?: (path: string) => boolean;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** True for an address only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/gu, '');
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}

/**
 * Checks a request to the local server before it reaches the API, so that no web page the user
 * visits can use it:
 * - DNS rebinding: on loopback, only requests addressed to the loopback names and this port are
 *   answered (421 otherwise); a page whose name now resolves to 127.0.0.1 still sends its own name.
 * - Cross-site writes: a POST, PUT, PATCH or DELETE from a foreign (or `null`) Origin, or marked
 *   `Sec-Fetch-Site: cross-site`, is refused (403) unless the origin is a configured CORS origin.
 *   Requests without an Origin (curl, scripts) are not from a browser page and pass.
 * - Off loopback, every API request needs the token (401), which no other page can know.
 */
export function guardLocalRequest(request: HttpRequest, options: LocalGuardOptions): HttpReply | undefined {
  const authorities = new Set(
    [...LOOPBACK_NAMES, hostForUrl(options.host)].map((name) =>
      `${name}:${String(options.port)}`.toLowerCase(),
    ),
  );
  const loopback = isLoopbackHost(options.host);
  const host = (headerOf(request, 'host') ?? '').trim().toLowerCase();
  if (loopback && !authorities.has(host)) {
    return json(421, {
      error: `this server answers requests addressed to ${[...authorities].join(', ')}, not "${host.slice(0, 100)}"`,
      field: 'host',
    });
  }
  if (STATE_CHANGING.has(request.method.toUpperCase())) {
    const origin = headerOf(request, 'origin');
    const allowedByCors =
      origin !== undefined && (options.corsOrigins.includes('*') || options.corsOrigins.includes(origin));
    const sameOrigin =
      origin !== undefined && authorities.has(authorityOf(origin) ?? '') && origin.startsWith('http://');
    const crossSite = headerOf(request, 'sec-fetch-site')?.toLowerCase() === 'cross-site';
    if ((origin !== undefined && !sameOrigin && !allowedByCors) || (crossSite && !allowedByCors)) {
      return json(403, {
        error: `a ${request.method} from ${origin ?? 'another site'} is refused: only this server's own pages and --cors-origin may change data`,
        field: 'origin',
      });
    }
  }
  const publicFile =
    ['GET', 'HEAD'].includes(request.method.toUpperCase()) && (options.isPublic?.(request.path) ?? false);
  if (options.token !== undefined && !publicFile && !hasToken(request, options.token)) {
    return json(401, {
      error: 'send the token of `twin serve --token` as "authorization: Bearer <token>" (or x-api-key)',
      field: 'authorization',
    });
  }
  return undefined;
}

function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

function authorityOf(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}

function hasToken(request: HttpRequest, token: string): boolean {
  const bearer = /^Bearer\s+(.+)$/iu.exec(headerOf(request, 'authorization') ?? '')?.[1]?.trim();
  const given = bearer ?? headerOf(request, 'x-api-key');
  if (given === undefined) return false;
  const [a, b] = [Buffer.from(given), Buffer.from(token)];
  return a.length === b.length && timingSafeEqual(a, b);
}
