import { json, type HttpReply, type HttpRequest } from '../http/contract.js';
import { isRagPath, type RagHttpApi } from '../rag/http-api.js';
import { WORKSPACE_PATHS, type WorkspaceHttpApi } from '../workspace/http-api.js';
import type { WebAsset } from './bundle.js';
import { staticFiles } from './static-files.js';

/** The API's routes (everything else is the web app's files). */
export function isApiPath(path: string): boolean {
  return isRagPath(path) || WORKSPACE_PATHS.test(path);
}

/**
 * Everything `twin serve` answers on one origin, as CloudFront does on AWS: POST /rag, the workspace
 * API, and the web app's files.
 */
export function localApp(parts: {
  rag: RagHttpApi;
  workspace: WorkspaceHttpApi;
  assets: readonly WebAsset[];
}): (request: HttpRequest) => Promise<HttpReply> {
  const files = staticFiles(parts.assets);
  return async (request) => {
    if (isRagPath(request.path)) return parts.rag.handle(request);
    if (WORKSPACE_PATHS.test(request.path)) return parts.workspace.handle(request);
    return files(request) ?? json(404, { error: `no such resource: ${request.path}` });
  };
}
