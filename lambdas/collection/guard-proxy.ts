import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import {
  hostnameOf,
  pinnedLookup,
  portOf,
  vetEndpoint,
  type NetworkPolicy,
  type ResolvedAddress,
} from './network-guard.js';

const MAX_REFUSALS_KEPT = 100;

/** Headers that describe one hop, not the request: never forwarded (RFC 9110, section 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface GuardProxyOptions {
  network: NetworkPolicy;
  /** How long opening one upstream connection may take. */
  connectTimeoutMs?: number;
}

/** One connection the proxy refused, kept so the crawler can say why a page failed. */
export interface Refusal {
  host: string;
  error: Error;
}

/**
 * A forward proxy on the loopback interface through which Chromium makes every connection: plain HTTP
 * requests are forwarded, and CONNECT (TLS, WebSockets) is tunnelled. For each connection it resolves
 * the host itself, vets every address with the network guard, and connects to the vetted address, so
 * a name that answers a public address to the check and 127.0.0.1 a moment later (DNS rebinding) can
 * never reach a local service. Chromium resolves no names of its own.
 */
export class GuardProxy {
  private readonly server: http.Server;
  private readonly sockets = new Set<Duplex>();
  private readonly refusals: Refusal[] = [];

  private constructor(
    private readonly options: GuardProxyOptions,
    readonly port: number,
    server: http.Server,
  ) {
    this.server = server;
  }

  static async start(options: GuardProxyOptions): Promise<GuardProxy> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        resolve();
      });
    });
    const proxy = new GuardProxy(options, (server.address() as net.AddressInfo).port, server);
    proxy.wire();
    return proxy;
  }

  /** The `--proxy-server` value for Chromium. */
  get address(): string {
    return `http://127.0.0.1:${String(this.port)}`;
  }

  /** The latest refusal for this host, if a connection to it was refused. */
  refusalFor(host: string): Error | undefined {
    return this.refusals.findLast((refusal) => refusal.host === host)?.error;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  private wire(): void {
    this.server.on('connection', (socket: net.Socket) => {
      this.track(socket);
    });
    this.server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
      void this.forward(request, response);
    });
    this.server.on('connect', (request: http.IncomingMessage, client: Duplex, head: Buffer) => {
      void this.tunnel(request, client, head);
    });
    // Chromium tunnels WebSockets with CONNECT; an upgrade sent as a plain request is not served.
    this.server.on('upgrade', (_request: http.IncomingMessage, client: Duplex) => {
      client.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\n\r\n');
    });
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** A plain-HTTP request in absolute form: `GET http://host/path`. */
  private async forward(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    let target: URL;
    try {
      target = new URL(request.url ?? '');
      if (target.protocol !== 'http:') throw new Error('not http');
    } catch {
      response
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('a proxy request needs an absolute http URL');
      return;
    }
    const host = hostnameOf(target);
    const vetted = await this.vet(host, portOf(target));
    if (vetted instanceof Error) {
      response.writeHead(403, { 'content-type': 'text/plain' }).end(vetted.message);
      request.resume();
      return;
    }
    const upstream = http.request(target, {
      method: request.method ?? 'GET',
      headers: forwardedHeaders(request.headers),
      lookup: pinnedLookup(vetted),
      timeout: this.options.connectTimeoutMs ?? 10_000,
    });
    upstream.on('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, forwardedHeaders(answer.headers));
      answer.pipe(response);
    });
    upstream.on('timeout', () => upstream.destroy(new Error(`${host} did not answer in time`)));
    upstream.on('error', (error) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' }).end(error.message);
      else response.destroy();
    });
    request.pipe(upstream);
  }

  /** CONNECT host:port: a byte tunnel to the vetted address (TLS stays end to end). */
  private async tunnel(request: http.IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    this.track(client);
    client.on('error', () => undefined);
    let target: URL;
    try {
      target = new URL(`http://${request.url ?? ''}`);
      if (!target.port || target.pathname !== '/') throw new Error('not host:port');
    } catch {
      client.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    const host = hostnameOf(target);
    const port = Number(target.port);
    const vetted = await this.vet(host, port);
    if (vetted instanceof Error) {
      client.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    const upstream = net.connect({
      host: vetted.address,
      port,
      timeout: this.options.connectTimeoutMs ?? 10_000,
    });
    this.track(upstream);
    upstream.once('timeout', () => upstream.destroy(new Error(`${host} did not answer in time`)));
    upstream.once('error', () => {
      client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
    });
    upstream.once('connect', () => {
      upstream.setTimeout(0);
      upstream.removeAllListeners('error');
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
  }

  /** The vetted address, or the reason it was refused (recorded for the crawler's error message). */
  private async vet(host: string, port: number): Promise<ResolvedAddress | Error> {
    try {
      return await vetEndpoint(host, port, this.options.network);
    } catch (error) {
      const reason = error instanceof Error ? error : new Error(`cannot resolve ${host}: ${String(error)}`);
      this.refusals.push({ host, error: reason });
      if (this.refusals.length > MAX_REFUSALS_KEPT) this.refusals.shift();
      return reason;
    }
  }
}

function forwardedHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set((headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase()));
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name) && !named.has(name)),
  );
}
