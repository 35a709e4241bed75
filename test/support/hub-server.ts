import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startLoopbackServer } from './http-server.js';

export interface HubRepository {
  private: boolean;
  files: Map<string, string>;
  commits: string[];
}

export interface HubServer {
  url: string;
  repositories: Map<string, HubRepository>;
  /** "METHOD path" of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * An imitation of the Hugging Face Hub's HTTP API for datasets, on 127.0.0.1: repository info and
 * creation, file existence, pre-upload (files above `lfsThresholdBytes` go to LFS), the LFS batch
 * API with basic transfer (uploads checked against their sha256), and NDJSON commits. Every call
 * needs the bearer token.
 */
export async function startHubServer(options: {
  token: string;
  lfsThresholdBytes?: number;
}): Promise<HubServer> {
  const repositories = new Map<string, HubRepository>();
  const lfs = new Map<string, Buffer>();
  const requests: string[] = [];
  const threshold = options.lfsThresholdBytes ?? 10 * 1024 * 1024;
  let url = '';

  const send = (response: ServerResponse, status: number, body?: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(body === undefined ? '' : JSON.stringify(body));
  };

  const server = await startLoopbackServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://hub').pathname);
      requests.push(`${request.method ?? ''} ${path}`);
      const lfsUpload = /^\/lfs-upload\/([0-9a-f]{64})$/u.exec(path);
      if (lfsUpload?.[1]) {
        // Pre-signed storage URLs carry no token.
        if (createHash('sha256').update(body).digest('hex') !== lfsUpload[1]) {
          send(response, 400, { error: 'sha256 mismatch' });
          return;
        }
        lfs.set(lfsUpload[1], body);
        send(response, 200);
        return;
      }
      if (request.headers.authorization !== `Bearer ${options.token}`) {
        send(response, 401, { error: 'Invalid credentials' });
        return;
      }

      if (request.method === 'POST' && path === '/api/repos/create') {
        const { name, organization, visibility, type } = JSON.parse(body.toString()) as Record<
          string,
          string
        >;
        const repo = `${organization ?? ''}/${name ?? ''}`;
        if (type !== 'dataset') {
          send(response, 400, { error: 'this imitation only hosts datasets' });
          return;
        }
        if (repositories.has(repo)) {
          send(response, 409, { error: 'You already created this dataset repo' });
          return;
        }
        repositories.set(repo, { private: visibility === 'private', files: new Map(), commits: [] });
        send(response, 200, { url: `${url}/datasets/${repo}`, name: repo });
        return;
      }
      const info = /^\/api\/datasets\/([^/]+\/[^/]+)$/u.exec(path);
      if (request.method === 'GET' && info?.[1]) {
        if (repositories.has(info[1])) send(response, 200, { id: info[1] });
        else send(response, 404, { error: 'Repository not found' });
        return;
      }
      const raw = /^\/datasets\/([^/]+\/[^/]+)\/(?:raw|resolve)\/main\/(.+)$/u.exec(path);
      if (raw?.[1] && raw[2]) {
        const content = repositories.get(raw[1])?.files.get(raw[2]);
        if (content === undefined) {
          send(response, 404);
          return;
        }
        response.writeHead(200, { 'content-type': 'text/plain' });
        return response.end(request.method === 'HEAD' ? undefined : content);
      }
      const preupload = /^\/api\/datasets\/([^/]+\/[^/]+)\/preupload\/main$/u.exec(path);
      if (preupload?.[1]) {
        const { files } = JSON.parse(body.toString()) as { files: { path: string; size: number }[] };
        send(response, 200, {
          files: files.map((file) => ({
            path: file.path,
            uploadMode: file.size > threshold ? 'lfs' : 'regular',
            shouldIgnore: false,
          })),
        });
        return;
      }
      const batch = /^\/datasets\/([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/u.exec(path);
      if (batch?.[1]) {
        const { objects } = JSON.parse(body.toString()) as { objects: { oid: string; size: number }[] };
        send(response, 200, {
          transfer: 'basic',
          objects: objects.map((object) => ({
            ...object,
            actions: { upload: { href: `${url}/lfs-upload/${object.oid}` } },
          })),
        });
        return;
      }
      const commit = /^\/api\/datasets\/([^/]+\/[^/]+)\/commit\/main$/u.exec(path);
      const repository = commit?.[1] ? repositories.get(commit[1]) : undefined;
      if (commit && repository) {
        const lines = body
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { key: string; value: Record<string, string> });
        const staged = new Map<string, string>();
        for (const { key, value } of lines) {
          if (key === 'file')
            staged.set(value.path ?? '', Buffer.from(value.content ?? '', 'base64').toString('utf8'));
          if (key === 'lfsFile') {
            const stored = lfs.get(value.oid ?? '');
            if (!stored) {
              send(response, 400, { error: `LFS object ${value.oid ?? ''} was never uploaded` });
              return;
            }
            staged.set(value.path ?? '', stored.toString('utf8'));
          }
        }
        for (const [file, content] of staged) repository.files.set(file, content);
        const oid = createHash('sha1').update(body).digest('hex');
        repository.commits.push(lines[0]?.value.summary ?? '');
        send(response, 200, {
          success: true,
          commitOid: oid,
          commitUrl: `${url}/datasets/${commit[1]}/commit/${oid}`,
        });
        return;
      }
      send(response, 404, { error: `no route for ${request.method ?? ''} ${path}` });
    });
  });
  url = server.url;
  return { url, repositories, requests, close: () => server.close() };
}
