import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { S3Client } from '@aws-sdk/client-s3';
import { lazyS3ArtifactStore } from '../adapters/artifacts/lazy.js';
import { S3ExportUploads } from '../adapters/uploads/s3.js';
import { openWarehouse } from '../adapters/warehouse/index.js';
import { AuthorConfigSchema } from '../collection/author-config.js';
import type { CrawlEnvironment } from '../collection/crawlers/types.js';
import { openCrawlEnvironment } from '../collection/environment.js';
import { exportOutcome, ExportRequestSchema, importUploadedExport } from '../collection/exports/uploaded.js';
import { byCrawler, byDomain, crawlLinks, type LinkResult } from '../collection/pipeline.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { ExportOutcome } from '../ports/collection-runs.js';
import type { ExportUploads } from '../ports/export-uploads.js';
import { fullNameOf, splitFullName } from '../domain/index.js';
import type { Warehouse } from '../ports/warehouse.js';
import { loadSettingsWithSecrets } from '../settings/index.js';
import { retryingLazy } from '../shared/lazy.js';
import {
  MapRunOutputSchema,
  mapItemsKey,
  readMapResults,
  writeMapItems,
  type MapRunResults,
} from '../workflows/distributed-map.js';
import { parseEvent } from './parse-event.js';

/**
 * The ETL workflow's function (statemachines/etl.asl.json): `start` validates the request, gets or
 * creates the author and writes the links to the item file of the workflow's Distributed Map, `crawl`
 * collects one link, `summarize` totals the links per domain from the results the Map wrote.
 */

/** Lambda gives a crawl at most its own timeout; leave room to report instead of being killed. */
const PER_LINK_TIMEOUT_MS = 240_000;

const StartEventSchema = z.object({
  action: z.literal('start'),
  /** The execution's name: the item file is named after it, so a retried start rewrites the same file. */
  executionName: z.string().min(1).max(80),
  request: AuthorConfigSchema,
});
const CrawlEventSchema = z.object({
  action: z.literal('crawl'),
  author: z.string().min(1),
  link: z.string().min(1).max(2048),
});
const SummarizeEventSchema = z.object({
  action: z.literal('summarize'),
  author: z.string().min(1),
  authorId: z.string().min(1),
  /** The item file `start` wrote: the links in the order given. */
  items: z.object({ key: z.string().min(1), count: z.number().int().min(0) }),
  /** The Distributed Map's output: where its ResultWriter put the links' results. */
  results: MapRunOutputSchema,
});

// Link results come from our own function (or the Map's catch) through the workflow: checked loosely.
const LinkResultSchema = z.looseObject({
  input: z.string(),
  outcome: z.enum(['inserted', 'skipped', 'blocked', 'failed']),
  reason: z.string().optional(),
  hint: z.string().optional(),
  detail: z.string().optional(),
});

const ImportEventSchema = z.object({
  action: z.literal('import'),
  author: z.string().trim().min(1).max(200),
  export: ExportRequestSchema,
});

export const CrawlEventSchemaUnion = z.discriminatedUnion('action', [
  StartEventSchema,
  CrawlEventSchema,
  SummarizeEventSchema,
  ImportEventSchema,
]);

export interface CrawlServices {
  warehouse: Warehouse;
  environment: CrawlEnvironment;
  /** Exports uploaded through the web app (the artifact bucket's exports/). */
  uploads?: ExportUploads;
  /** The artifact bucket, where the workflow's Map reads the links and writes their results. */
  artifacts?: ArtifactStore;
}

/**
 * Each link's result in the order the links were given; a link whose child execution failed outside its
 * own catch, or left no result, counts as failed with the reason.
 */
function linkResultsInOrder(links: readonly string[], results: MapRunResults): LinkResult[] {
  const byLink = new Map<string, LinkResult>();
  for (const { output } of results.succeeded) {
    const result = LinkResultSchema.parse(output) as unknown as LinkResult;
    byLink.set(result.input, result);
  }
  for (const { input, error } of results.failed) {
    const link = (input as { link?: string } | undefined)?.link ?? '';
    byLink.set(link, {
      input: link,
      outcome: 'failed',
      documents: 0,
      ms: 0,
      reason: `${error.Error}: ${error.Cause}`,
    });
  }
  return links.map(
    (link) =>
      byLink.get(link) ?? {
        input: link,
        outcome: 'failed',
        documents: 0,
        ms: 0,
        reason: 'the workflow recorded no result',
      },
  );
}

function requireArtifacts(artifacts: ArtifactStore | undefined): ArtifactStore {
  if (!artifacts) throw new Error('the ETL workflow needs ARTIFACT_BUCKET, where its Map keeps the links');
  return artifacts;
}

export interface EtlSummary {
  author: string;
  authorId: string;
  inserted: number;
  skipped: number;
  failed: number;
  /** Links a bot wall answered (nothing stored; each carries a hint). */
  blocked: number;
  byDomain: Record<string, { successful: number; total: number }>;
  byCrawler: Record<string, { links: number; documents: number }>;
  failedLinks: { input: string; reason: string }[];
  /** For an imported export: what it held. */
  export?: ExportOutcome;
  /** Every link's outcome, in the order given (for the web app's run status). */
  links: {
    input: string;
    outcome: LinkResult['outcome'];
    documents: number;
    reason?: string;
    hint?: string;
    detail?: string;
  }[];
}

export function createCrawlHandler(services: () => Promise<CrawlServices>, logger?: Logger) {
  return async (event: unknown) => {
    const request = parseEvent(CrawlEventSchemaUnion, event);
    const { warehouse, environment, uploads, artifacts } = await services();
    switch (request.action) {
      case 'import': {
        if (!uploads)
          throw new Error('uploaded exports need ARTIFACT_BUCKET, the bucket they are uploaded to');
        const report = await importUploadedExport(warehouse, uploads, request.author, request.export);
        const summary: EtlSummary = {
          author: fullNameOf(report.author),
          authorId: report.author.id,
          inserted: report.inserted,
          skipped: report.alreadyThere,
          failed: 0,
          blocked: 0,
          byDomain: {},
          byCrawler: {},
          failedLinks: [],
          export: exportOutcome(report),
          links: [],
        };
        logger?.info('export imported', { ...summary });
        return summary;
      }
      case 'start': {
        const user = await warehouse.getOrCreateUser(splitFullName(request.request.author));
        logger?.info('collecting links', { author: fullNameOf(user), links: request.request.links.length });
        const items = await writeMapItems(
          requireArtifacts(artifacts),
          mapItemsKey('etl', request.executionName, 'links'),
          request.request.links,
        );
        return { author: fullNameOf(user), authorId: user.id, items };
      }
      case 'crawl': {
        const report = await crawlLinks(warehouse, environment, request.author, [request.link], {
          concurrency: 1,
          perLinkTimeoutMs: PER_LINK_TIMEOUT_MS,
        });
        const [result] = report.results;
        logger?.info('crawled link', { ...result });
        return result;
      }
      case 'summarize': {
        const store = requireArtifacts(artifacts);
        const links = z.array(z.string()).parse(JSON.parse((await store.read(request.items.key)) ?? '[]'));
        const results = linkResultsInOrder(links, await readMapResults(store, request.results));
        const count = (outcome: LinkResult['outcome']) =>
          results.filter((result) => result.outcome === outcome).length;
        const summary: EtlSummary = {
          author: request.author,
          authorId: request.authorId,
          inserted: results.reduce(
            (sum, result) => sum + (result.outcome === 'inserted' ? result.documents : 0),
            0,
          ),
          skipped: count('skipped'),
          failed: count('failed'),
          blocked: count('blocked'),
          byDomain: byDomain(results),
          byCrawler: byCrawler(results),
          failedLinks: results
            .filter((result) => result.outcome === 'failed')
            .map((result) => ({ input: result.input, reason: result.reason ?? 'unknown error' })),
          links: results.map((result) => ({
            input: result.input,
            outcome: result.outcome,
            documents: result.documents,
            ...(result.reason ? { reason: result.reason } : {}),
            ...(result.hint ? { hint: result.hint } : {}),
            ...(result.detail ? { detail: result.detail } : {}),
          })),
        };
        logger?.info('collection finished', { ...summary });
        return summary;
      }
    }
  };
}

const logger = new Logger({ serviceName: 'llm-twin-crawl' });

// Settings, the warehouse connection and the crawl environment live as long as the container; the
// browser itself starts only when a link needs it and is reused by the next invocations.
const sharedServices = retryingLazy(async (): Promise<CrawlServices> => {
  const settings = await loadSettingsWithSecrets(process.env);
  const bucket = process.env.ARTIFACT_BUCKET;
  return {
    warehouse: await openWarehouse(settings),
    environment: openCrawlEnvironment(settings),
    ...(bucket
      ? { uploads: new S3ExportUploads(new S3Client({}), bucket), artifacts: lazyS3ArtifactStore(bucket) }
      : {}),
  };
});

export const handler = middy(createCrawlHandler(sharedServices, logger)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
