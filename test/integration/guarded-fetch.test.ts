import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { FetchError, guardedFetch, USER_AGENT } from '../../lambdas/collection/http-fetch.js';
import { ForbiddenAddressError, type Resolver } from '../../lambdas/collection/network-guard.js';
import { startLoopbackServer } from '../support/http-server.js';

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function site(handler: (request: IncomingMessage, response: ServerResponse) => void) {
  const requests: IncomingMessage[] = [];
  const server = await startLoopbackServer((request, response) => {
    requests.push(request);
    handler(request, response);
  });
  servers.push(server);
  return { url: server.url, requests };
}

const html = (response: ServerResponse, body: string) => {
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  response.end(body);
};

/** Resolves every name to an address of the table; a test never sends a packet outside 127.0.0.0/8. */
const resolver: Resolver = (host) =>
  Promise.resolve(host === 'internal.example' ? [{ address: '10.0.0.5', family: 4 }] : []);

describe('guarded fetch', () => {
  it('sends no request at all to a loopback server unless the test-only opt-in is on', async () => {
    const { url, requests } = await site((_, response) => html(response, '<p>hi</p>'));

    await expect(guardedFetch(`${url}/page`, { resolver })).rejects.toBeInstanceOf(ForbiddenAddressError);
    await expect(
      guardedFetch(`${url.replace('127.0.0.1', '2130706433')}/page`, { resolver }),
    ).rejects.toThrow(/loopback/u);
    expect(requests).toHaveLength(0);

    const page = await guardedFetch(`${url}/page`, { allowLoopback: true, resolver });
    expect(page).toMatchObject({ status: 200, body: '<p>hi</p>', url: `${url}/page` });
    expect(requests[0]?.headers['user-agent']).toBe(USER_AGENT);
  });

  it('follows redirects, vetting every hop: a redirect into the metadata service or a private name is refused', async () => {
    const { url } = await site((request, response) => {
      const targets: Record<string, string> = {
        '/moved': '/final',
        '/to-metadata': 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
        '/to-metadata-hex': 'http://0xa9fea9fe/latest/meta-data/',
        '/to-internal': 'http://internal.example/admin',
        '/loop': '/loop',
      };
      const target = targets[request.url ?? ''];
      if (target) {
        response.writeHead(302, { location: target });
        response.end();
      } else html(response, `<p>${request.url ?? ''}</p>`);
    });
    const policy = { allowLoopback: true, resolver };

    expect(await guardedFetch(`${url}/moved`, policy)).toMatchObject({
      url: `${url}/final`,
      body: '<p>/final</p>',
    });
    await expect(guardedFetch(`${url}/to-metadata`, policy)).rejects.toThrow(
      /169\.254\.169\.254 \(cloud metadata service\)/u,
    );
    await expect(guardedFetch(`${url}/to-metadata-hex`, policy)).rejects.toThrow(/cloud metadata service/u);
    await expect(guardedFetch(`${url}/to-internal`, policy)).rejects.toThrow(
      'refused internal.example: it resolves to 10.0.0.5 (private network)',
    );
    await expect(guardedFetch(`${url}/loop`, policy)).rejects.toThrow(/more than 5 redirects/u);
  });

  it('stops reading a response over the size cap, and a server that does not answer in time', async () => {
    const { url } = await site((request, response) => {
      if (request.url === '/slow') return; // never answers
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('x'.repeat(300_000));
    });
    const policy = { allowLoopback: true, resolver };

    await expect(
      guardedFetch(`${url}/big`, policy, { timeoutMs: 5_000, maxBytes: 100_000, maxRedirects: 5 }),
    ).rejects.toThrow(/over the 100000-byte limit/u);
    const started = Date.now();
    await expect(
      guardedFetch(`${url}/slow`, policy, { timeoutMs: 300, maxBytes: 100_000, maxRedirects: 5 }),
    ).rejects.toBeInstanceOf(FetchError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
