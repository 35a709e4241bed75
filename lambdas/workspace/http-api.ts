import { z } from 'zod';
import { InvalidInputError } from '../domain/index.js';
import {
  cleanPath,
  corsHeaders,
  inputErrorReply,
  json,
  parseJsonBody,
  type HttpReply,
  type HttpRequest,
} from '../http/contract.js';
import { RunInProgressError, type CollectionRuns } from '../ports/collection-runs.js';
import { AuthorLinksBodySchema, type AuthorLinksRepository } from './author-links.js';
import type { WorkspaceStats } from './stats.js';

export interface WorkspaceServices {
  links: AuthorLinksRepository;
  runs: CollectionRuns;
  stats: () => Promise<WorkspaceStats>;
}

export interface WorkspaceApiOptions {
  corsOrigins?: readonly string[];
  /** Called for failures answered 500. */
  onError?: (error: unknown) => void;
}

const StartRunBodySchema = z.strictObject({
  author: z.string().trim().min(1, 'must name the author (First Last)').max(200),
});

/** Paths this API answers; everything else belongs to someone else (the twin, the web app). */
export const WORKSPACE_PATHS = /^\/(authors|collection-runs|stats)(\/|$)/u;

/**
 * The web app's management API, beside POST /rag and behind the same auth:
 *   GET /authors                  the saved link lists
 *   PUT /authors                  {author, links}: save one author's list (every link checked)
 *   POST /collection-runs         {author}: collect that author's saved links (202)
 *   GET /collection-runs/{id}     the run's state and each link's outcome
 *   GET /stats                    warehouse and feature-store counts per author and category
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
      const services = await this.services();
      if (path === '/authors') {
        if (request.method === 'GET') return json(200, await services.links.list());
        if (request.method === 'PUT') {
          const body = parseJsonBody(request, AuthorLinksBodySchema, {
            message: 'the body must be a JSON object with author and links',
            field: 'author',
          });
          return json(200, await services.links.save(body));
        }
        return notAllowed('GET, PUT');
      }
      if (path === '/collection-runs') {
        if (request.method !== 'POST') return notAllowed('POST');
        const { author } = parseJsonBody(request, StartRunBodySchema, {
          message: 'the body must be a JSON object with the author to collect',
          field: 'author',
        });
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
        return run ? json(200, run) : json(404, { error: 'no such collection run', field: 'id' });
      }
      if (path === '/stats') {
        if (request.method !== 'GET') return notAllowed('GET');
        return json(200, await services.stats());
      }
      return json(404, { error: `no such resource: ${path}` });
    } catch (error) {
      if (error instanceof InvalidInputError) return inputErrorReply(error);
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
