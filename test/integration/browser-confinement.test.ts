import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserSession } from '../../lambdas/collection/crawlers/browser.js';
import { GuardProxy } from '../../lambdas/collection/guard-proxy.js';
import { ForbiddenAddressError, type Resolver } from '../../lambdas/collection/network-guard.js';
import { CHROMIUM_PATH, chromiumAvailable } from '../support/chromium.js';
import { startLoopbackServer } from '../support/http-server.js';

/** A local service a crawled page must never reach: it counts every TCP connection made to it. */
async function startVictim(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const server = net.createServer((socket) => {
    count += 1;
    socket.resume();
    socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\r\n<h1>internal admin</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Answers a public address the first time a name is asked, and 127.0.0.1 ever after: DNS rebinding. */
function rebindingResolver(): Resolver {
  const asked = new Set<string>();
  return (host) => {
    const first = !asked.has(host);
    asked.add(host);
    return Promise.resolve([{ address: first ? '93.184.215.14' : '127.0.0.1', family: 4 }]);
  };
}

describe.runIf(chromiumAvailable())(
  'the browser crawler has one way out: the guard proxy (real Chromium)',
  () => {
    let victim: Awaited<ReturnType<typeof startVictim>>;
    beforeAll(async () => {
      victim = await startVictim();
    });
    afterAll(async () => {
      await victim.close();
    });

    it('refuses a name rebound to 127.0.0.1 between the check and the connection, and never connects', async () => {
      // `*.localhost` is a name Chromium itself resolves to loopback: a browser that resolved names on its
      // own, after our check had seen the public answer, would connect to the victim.
      const browser = new BrowserSession({
        executablePath: CHROMIUM_PATH,
        network: { resolver: rebindingResolver() },
        navigationTimeoutMs: 10_000,
      });
      try {
        const crawl = browser.withPage(`http://rebind.localhost:${String(victim.port)}/admin`, (page) =>
          page.content(),
        );
        await expect(crawl).rejects.toBeInstanceOf(ForbiddenAddressError);
        await expect(crawl).rejects.toThrow(/127\.0\.0\.1 \(loopback\)/u);
      } finally {
        await browser.close();
      }
      expect(victim.connections()).toBe(0);
    });

    it('lets a page load, but none of its WebSockets, fetches or images reach another local port', async () => {
      const site = await startLoopbackServer((_, response) => {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(`<!doctype html><html><head><title>Article</title></head><body>
<article><h1>Article</h1><p>Text a crawler wants.</p></article>
<img src="http://127.0.0.1:${String(victim.port)}/pixel.png">
<script>
  const outcomes = [];
  const report = (what) => { outcomes.push(what); document.body.dataset.outcomes = outcomes.sort().join(' '); };
  for (const target of ['ws://127.0.0.1:${String(victim.port)}/', 'ws://localhost:${String(victim.port)}/', 'ws://[::1]:${String(victim.port)}/']) {
    const socket = new WebSocket(target);
    socket.onopen = () => report('ws-open');
    socket.onerror = () => report('ws-failed');
  }
  fetch('http://127.0.0.1:${String(victim.port)}/api')
    .then(() => report('fetch-answered'), () => report('fetch-failed'));
</script></body></html>`);
      });
      const sitePort = Number(new URL(site.url).port);
      const browser = new BrowserSession({
        executablePath: CHROMIUM_PATH,
        network: {
          allowLoopback: true,
          loopbackPorts: [sitePort],
          resolver: () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]),
        },
        navigationTimeoutMs: 10_000,
      });
      try {
        const seen = await browser.withPage(`${site.url}/article`, async (page) => {
          // Strings, not functions: the page runs them as written (see page-scripts.ts).
          await page.waitForFunction("(document.body.dataset.outcomes || '').split(' ').length === 4");
          return {
            heading: await page.evaluate("document.querySelector('h1').textContent"),
            outcomes: await page.evaluate('document.body.dataset.outcomes'),
          };
        });
        expect(seen).toEqual({ heading: 'Article', outcomes: 'fetch-failed ws-failed ws-failed ws-failed' });
      } finally {
        await browser.close();
        await site.close();
      }
      expect(victim.connections()).toBe(0);
    });
  },
);

/** Sends raw bytes to the proxy and returns its first reply line (and whatever follows on the tunnel). */
async function rawExchange(port: number, request: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.write(request);
  let reply = '';
  socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
  await new Promise((resolve) => socket.on('close', resolve));
  return reply;
}

describe('the guard proxy on its own', () => {
  const loopbackOnly: Resolver = () => Promise.resolve([{ address: '127.0.0.1', family: 4 }]);

  it('tunnels CONNECT only to a vetted endpoint, and names the refusal for the crawler', async () => {
    const victim = await startVictim();
    const strict = await GuardProxy.start({ network: { resolver: loopbackOnly } });
    const fixtures = await GuardProxy.start({ network: { allowLoopback: true, resolver: loopbackOnly } });
    try {
      const refused = await rawExchange(
        strict.port,
        `CONNECT intranet.example:${String(victim.port)} HTTP/1.1\r\n\r\n`,
      );
      expect(refused).toMatch(/^HTTP\/1\.1 403 /u);
      expect(strict.refusalFor('intranet.example')?.message).toMatch(
        /resolves to 127\.0\.0\.1 \(loopback\)/u,
      );
      expect(victim.connections()).toBe(0);

      const tunnelled = await rawExchange(
        fixtures.port,
        `CONNECT fixture.example:${String(victim.port)} HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n`,
      );
      expect(tunnelled).toMatch(/^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK/u);
      expect(victim.connections()).toBe(1);
    } finally {
      await Promise.all([strict.close(), fixtures.close(), victim.close()]);
    }
  });

  it('forwards a plain request without the hop headers, and refuses a metadata literal', async () => {
    const seen: { url?: string; headers: Record<string, unknown> }[] = [];
    const site = await startLoopbackServer((request, response) => {
      seen.push({ ...(request.url ? { url: request.url } : {}), headers: request.headers });
      response.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    });
    const proxy = await GuardProxy.start({ network: { allowLoopback: true, resolver: loopbackOnly } });
    try {
      const port = new URL(site.url).port;
      const reply = await rawExchange(
        proxy.port,
        `GET http://blog.example:${port}/post?id=1 HTTP/1.1\r\nHost: blog.example:${port}\r\n` +
          'Proxy-Authorization: Basic c2VjcmV0\r\nProxy-Connection: keep-alive\r\nConnection: close\r\n\r\n',
      );
      expect(reply).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n[\s\S]*hello/u);
      expect(seen.map(({ url }) => url)).toEqual(['/post?id=1']);
      expect(seen[0]?.headers.host).toBe(`blog.example:${port}`);
      expect(Object.keys(seen[0]?.headers ?? {})).not.toContain('proxy-authorization');
      expect(Object.keys(seen[0]?.headers ?? {})).not.toContain('proxy-connection');

      const metadata = await rawExchange(
        proxy.port,
        'GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\nConnection: close\r\n\r\n',
      );
      expect(metadata).toMatch(/^HTTP\/1\.1 403 [\s\S]*cloud metadata service/u);
    } finally {
      await Promise.all([proxy.close(), site.close()]);
    }
  });
});
