import type { HttpReply, HttpRequest } from '../http/contract.js';
import type { WebAsset } from './bundle.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** Serves the bundled web app from memory: `/` is index.html; unknown paths are a 404. */
export function staticFiles(assets: readonly WebAsset[]): (request: HttpRequest) => HttpReply | undefined {
  const byPath = new Map(assets.map((asset) => [asset.path, asset]));
  return (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    const asset = byPath.get(request.path === '/' ? '/index.html' : request.path);
    if (!asset) return undefined;
    return {
      statusCode: 200,
      headers: {
        'content-type': asset.contentType,
        'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        ...SECURITY_HEADERS,
      },
      body: request.method === 'HEAD' ? '' : asset.body,
    };
  };
}
