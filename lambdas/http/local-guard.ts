import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { OPERATOR, type Principal } from '../access/principal.js';
import { headerOf, json, type HttpReply, type HttpRequest } from './contract.js';

/** What `twin serve` accepts besides the API's own validation. */
export interface LocalGuardOptions {
  /** The address it listens on, as given (127.0.0.1, ::1, localhost, 0.0.0.0, a LAN address...). */
  host: string;
  /** The port it is bound to. */
  port: number;
  /** Other browser origins allowed to call the API (CORS), "*" for any. */
  corsOrigins: readonly string[];
  /** The operator's token: required on every API request (bearer or x-api-key) when given; required off loopback. */
  token?: string;
  /** The principal a presented token belongs to (tokens of `twin access token`), if any. */
  principals?: (token: string) => Promise<Principal | undefined>;
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
 * - Off loopback, every API request needs a token (401), which no other page can know.
 * It also says who is calling: the operator (the server's own token, or anyone on loopback when it has
 * none), or the principal a token of `twin access token` belongs to. An unknown token is a 401.
 */
export async function guardLocalRequest(
  request: HttpRequest,
  options: LocalGuardOptions,
): Promise<{ refused: HttpReply } | { principal: Principal }> {
  const refused = checkAddressAndOrigin(request, options);
  if (refused) return { refused };
  const publicFile =
    ['GET', 'HEAD'].includes(request.method.toUpperCase()) && (options.isPublic?.(request.path) ?? false);
  const presented = presentedToken(request);
  if (presented !== undefined) {
    if (options.token !== undefined && sameSecret(presented, options.token)) return { principal: OPERATOR };
    const principal = await options.principals?.(presented);
    if (principal) return { principal };
  } else if (options.token === undefined || publicFile) {
    // Without a token of its own the server trusts its machine: the local user is the operator.
    return { principal: OPERATOR };
  }
  if (publicFile) return { principal: OPERATOR };
  return {
    refused: json(401, {
      error:
        'send your token (from `twin serve --token` or `twin access token`) as "authorization: Bearer <token>" (or x-api-key)',
      field: 'authorization',
    }),
  };
}

/** DNS rebinding and cross-site writes (see guardLocalRequest). */
function checkAddressAndOrigin(request: HttpRequest, options: LocalGuardOptions): HttpReply | undefined {
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

function presentedToken(request: HttpRequest): string | undefined {
  const bearer = /^Bearer\s+(.+)$/iu.exec(headerOf(request, 'authorization') ?? '')?.[1]?.trim();
  return bearer || headerOf(request, 'x-api-key')?.trim() || undefined;
}

function sameSecret(given: string, token: string): boolean {
  const [a, b] = [Buffer.from(given), Buffer.from(token)];
  return a.length === b.length && timingSafeEqual(a, b);
}
