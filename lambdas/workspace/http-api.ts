import { z } from 'zod';
import { InvalidInputError } from '../domain/index.js';
import { OPERATOR } from '../access/principal.js';
import {
  scopeOfRequest,
  AuthorNotAllowedError,
  mayUse,
  type AuthorScope,
  type ScopeResolver,
} from '../access/scope.js';
import { ExportRequestSchema } from '../collection/exports/uploaded.js';
import {
  cleanPath,
  corsHeaders,
  headerOf,
  inputErrorReply,
  json,
  parseJsonBody,
  UnsupportedMediaTypeError,
  type HttpReply,
  type HttpRequest,
} from '../http/contract.js';
import { parseMultipart } from '../http/multipart.js';
import { MAX_EXPORT_UPLOAD_BYTES, type ExportUploads } from '../ports/export-uploads.js';
import { RunInProgressError, type CollectionRuns } from '../ports/collection-runs.js';
import { AuthorLinksBodySchema, type AuthorLinksRepository } from './author-links.js';
import type { WorkspaceStats } from './stats.js';
import { scopedWritingEvaluation, type WritingEvaluationView } from './writing-evaluation.js';

export interface WorkspaceServices {
  links: AuthorLinksRepository;
  runs: CollectionRuns;
  stats: () => Promise<WorkspaceStats>;
  /** Tickets for uploading platform exports; absent where the deployment takes none. */
  uploads?: ExportUploads;
  /** Where the server itself receives uploads (locally; on AWS the browser posts to S3). */
  receiver?: UploadReceiver;
  /** The latest `twin eval twin` report (locally, from the data folder); absent where there is none. */
  writingEvaluation?: () => Promise<WritingEvaluationView | undefined>;
}

/** Takes an uploaded archive posted to this server under a ticket's key. */
export interface UploadReceiver {
  accepts(key: string): boolean;
  receive(key: string, archive: Buffer): Promise<void>;
}

export interface WorkspaceApiOptions {
  corsOrigins?: readonly string[];
  /** The authors each caller may list, edit, count and collect; every author when absent. */
  access?: ScopeResolver;
  /** Called for failures answered 500. */
  onError?: (error: unknown) => void;
}

const StartRunBodySchema = z.strictObject({
  author: z.string().trim().min(1, 'must name the author (First Last)').max(200),
  /** Import this uploaded export instead of collecting the saved links. */
  export: ExportRequestSchema.optional(),
});

/** Paths this API answers; everything else belongs to someone else (the twin, the web app). */
export const WORKSPACE_PATHS = /^\/(authors|collection-runs|stats|exports|me|evaluations)(\/|$)/u;

/**
 * The web app's management API, beside POST /rag and behind the same auth:
 *   GET /authors                  the saved link lists
 *   PUT /authors                  {author, links}: save one author's list (every link checked)
 *   POST /collection-runs         {author}: collect that author's saved links (202)
 *   GET /collection-runs/{id}     the run's state and each link's outcome
 *   GET /stats                    warehouse and feature-store counts per author and category
 *   GET /me                       who is calling, and the authors they may use ("*": all)
 *   GET /evaluations/writing      the latest writing evaluation (twin eval twin), the caller's authors' rows
 *   POST /exports                 a ticket for uploading a platform export (201)
 *   POST /exports/uploads         locally: the upload itself (multipart: key, then file; 204)
 *   POST /collection-runs         {author, export: {key, platform?, site?}}: import the upload (202)
 * Bad input is a 400 naming the field; an unknown run or author a 404; a second run for an author
 * while one is going a 409.
 */
export class WorkspaceHttpApi {
  constructor(
    private readonly services: () => Promise<WorkspaceServices>,
    private readonly options: WorkspaceApiOptions = {},
  ) {}

  async handle(request: HttpRequest): Promise<HttpReply> {
    const reply = await this.route(request);
    const cors = corsHeaders(request, this.options.corsOrigins ?? [], 'GET, PUT, POST, OPTIONS');
    return { ...reply, headers: { ...reply.headers, ...cors } };
  }

  private async route(request: HttpRequest): Promise<HttpReply> {
    const path = cleanPath(request.path);
    if (request.method === 'OPTIONS') return { statusCode: 204, headers: {}, body: '' };
    try {
      const [services, scope] = await Promise.all([
        this.services(),
        scopeOfRequest(this.options.access, request.principal),
      ]);
      const allowed = (author: string) => {
        if (!mayUse(scope, author)) throw new AuthorNotAllowedError();
      };
      if (path === '/authors') {
        if (request.method === 'GET') return json(200, visibleLinks(await services.links.list(), scope));
        if (request.method === 'PUT') {
          const body = parseJsonBody(request, AuthorLinksBodySchema, {
            message: 'the body must be a JSON object with author and links',
            field: 'author',
          });
          allowed(body.author);
          return json(200, await services.links.save(body));
        }
        return notAllowed('GET, PUT');
      }
      if (path === '/me') {
        if (request.method !== 'GET') return notAllowed('GET');
        const principal = request.principal ?? OPERATOR;
        return json(200, { principal: principal.id, authors: scope.kind === 'all' ? '*' : scope.names });
      }
      if (path === '/exports') {
        if (request.method !== 'POST') return notAllowed('POST');
        if (!services.uploads) return json(404, { error: 'this deployment takes no uploaded exports' });
        return json(201, await services.uploads.ticket());
      }
      if (path === '/exports/uploads') {
        if (request.method !== 'POST') return notAllowed('POST');
        if (!services.receiver) return json(404, { error: 'uploads go to the address of the upload ticket' });
        return await receiveUpload(request, services.receiver);
      }
      if (path === '/collection-runs') {
        if (request.method !== 'POST') return notAllowed('POST');
        const { author, export: upload } = parseJsonBody(request, StartRunBodySchema, {
          message: 'the body must be a JSON object with the author to collect',
          field: 'author',
        });
        allowed(author);
        if (upload) {
          const run = await services.runs.start({ author, export: upload });
          return json(202, run, { location: `/collection-runs/${run.id}` });
        }
        const saved = await services.links.find(author);
        if (!saved) {
          return json(404, { error: `no links are saved for ${author}; save some first`, field: 'author' });
        }
        const run = await services.runs.start({ author: saved.author, links: saved.links });
        return json(202, run, { location: `/collection-runs/${run.id}` });
      }
      const runPath = /^\/collection-runs\/([^/]+)$/u.exec(path);
      if (runPath) {
        if (request.method !== 'GET') return notAllowed('GET');
        const run = await services.runs.get(decodePathSegment(runPath[1] ?? '', 'id'));
        // Another author's run is answered as if it did not exist: run ids cannot be probed.
        return run && mayUse(scope, run.author)
          ? json(200, run)
          : json(404, { error: 'no such collection run', field: 'id' });
      }
      if (path === '/stats') {
        if (request.method !== 'GET') return notAllowed('GET');
        const stats = await services.stats();
        return json(200, { ...stats, authors: stats.authors.filter((author) => mayUse(scope, author.name)) });
      }
      if (path === '/evaluations/writing') {
        if (request.method !== 'GET') return notAllowed('GET');
        const evaluation = await services.writingEvaluation?.();
        return evaluation
          ? json(200, scopedWritingEvaluation(evaluation, scope))
          : json(404, { error: 'no writing evaluation here yet: run `twin eval twin` on this data folder' });
      }
      return json(404, { error: `no such resource: ${path}` });
    } catch (error) {
      if (error instanceof InvalidInputError) return inputErrorReply(error);
      if (error instanceof AuthorNotAllowedError) return json(403, { error: error.message, field: 'author' });
      if (error instanceof RunInProgressError) {
        return json(
          409,
          { error: error.message, run_id: error.runId },
          { location: `/collection-runs/${error.runId}` },
        );
      }
      this.options.onError?.(error);
      return json(500, { error: 'internal error; the request was logged' });
    }
  }
}

/** A multipart POST of `key` (from a ticket) and then `file`, the way S3 takes a presigned POST. */
async function receiveUpload(request: HttpRequest, receiver: UploadReceiver): Promise<HttpReply> {
  const contentType = headerOf(request, 'content-type') ?? '';
  if (!request.bytes || !/^multipart\/form-data/iu.test(contentType)) {
    throw new UnsupportedMediaTypeError(
      'send the export as multipart/form-data: the key, then the file',
      'content-type',
    );
  }
  const form = await parseMultipart(contentType, request.bytes, { maxFileBytes: MAX_EXPORT_UPLOAD_BYTES });
  const key = form.fields.key ?? '';
  if (!receiver.accepts(key)) {
    return json(403, {
      error: 'the upload key is unknown, used or expired: ask POST /exports for a ticket',
      field: 'key',
    });
  }
  await receiver.receive(key, form.file.bytes);
  return { statusCode: 204, headers: {}, body: '' };
}

/** The saved lists a caller may see; unreadable files are named to operators only (names are slugs). */
function visibleLinks(
  listing: Awaited<ReturnType<AuthorLinksRepository['list']>>,
  scope: AuthorScope,
): Awaited<ReturnType<AuthorLinksRepository['list']>> {
  if (scope.kind === 'all') return listing;
  return { authors: listing.authors.filter((entry) => mayUse(scope, entry.author)), unreadable: [] };
}

function notAllowed(allow: string): HttpReply {
  return json(405, { error: `use ${allow}` }, { allow: `${allow}, OPTIONS` });
}

/** A percent-encoded path segment; a broken escape (`%ZZ`) is the client's error, answered 400. */
function decodePathSegment(segment: string, field: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidInputError(
      `the path segment "${segment.slice(0, 100)}" is not valid percent-encoding`,
      field,
    );
  }
}
