import http from 'node:http';
import https from 'node:https';
import { hostnameOf, pinnedLookup, portOf, vetEndpoint, type NetworkPolicy } from './network-guard.js';

export const USER_AGENT =
  'LLM-Twin-Crawler/0.1 (+https://github.com/llm-twin; collects the writing of the author who configured it)';

/** Pages first, then feeds (a feed link is read by the same fetch). */
const ACCEPT =
  'text/html,application/xhtml+xml;q=0.9,application/rss+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,*/*;q=0.5';

export interface FetchLimits {
  /** Whole request, redirects included. */
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
}

export const DEFAULT_LIMITS: FetchLimits = { timeoutMs: 20_000, maxBytes: 5 * 1024 * 1024, maxRedirects: 5 };

export interface FetchedPage {
  /** The URL that answered, after redirects. */
  url: string;
  status: number;
  contentType: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class FetchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FetchError';
  }
}

/**
 * GETs a page over HTTP(S) for a crawler, safely: every hop (the first request and each redirect) is
 * vetted by the network guard, and the connection goes to the very address that was vetted (no second
 * DNS answer can slip in). A size cap and a time limit bound every fetch.
 */
export async function guardedFetch(
  link: string,
  policy: NetworkPolicy,
  limits: FetchLimits = DEFAULT_LIMITS,
): Promise<FetchedPage> {
  const deadline = AbortSignal.timeout(limits.timeoutMs);
  let url = new URL(link);
  for (let hop = 0; hop <= limits.maxRedirects; hop++) {
    const response = await requestOnce(url, policy, limits, deadline);
    if (response.redirect) {
      url = new URL(response.redirect, url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new FetchError(`redirect to unsupported ${url.protocol}`);
      continue;
    }
    return { ...response.page, url: url.toString() };
  }
  throw new FetchError(`more than ${String(limits.maxRedirects)} redirects`);
}

interface OneResponse {
  redirect?: string;
  page: Omit<FetchedPage, 'url'>;
}

async function requestOnce(
  url: URL,
  policy: NetworkPolicy,
  limits: FetchLimits,
  signal: AbortSignal,
): Promise<OneResponse> {
  const vetted = await vetEndpoint(hostnameOf(url), portOf(url), policy);
  // Connect to the vetted address whatever the system resolver would say now.
  const lookup = pinnedLookup(vetted);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<OneResponse>((resolve, reject) => {
    const request = client.get(
      url,
      {
        lookup,
        signal,
        headers: { 'user-agent': USER_AGENT, accept: ACCEPT },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (status >= 300 && status < 400 && location) {
          response.resume();
          resolve({
            redirect: location,
            page: { status, contentType: '', headers: response.headers, body: '' },
          });
          return;
        }
        const declared = Number(response.headers['content-length'] ?? 0);
        if (declared > limits.maxBytes) {
          response.destroy();
          reject(
            new FetchError(
              `${url.toString()} is ${String(declared)} bytes, over the ${String(limits.maxBytes)}-byte limit`,
            ),
          );
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limits.maxBytes) {
            response.destroy(
              new FetchError(`${url.toString()} is over the ${String(limits.maxBytes)}-byte limit`),
            );
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            page: {
              status,
              contentType: response.headers['content-type'] ?? '',
              headers: response.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            },
          }),
        );
      },
    );
    request.on('error', (error) =>
      reject(
        signal.aborted
          ? new FetchError(`${url.toString()} did not answer within the time limit`, { cause: error })
          : error,
      ),
    );
  });
}
