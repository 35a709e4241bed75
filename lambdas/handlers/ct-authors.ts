import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { S3ArtifactStore } from '../adapters/artifacts/s3.js';
import { join } from 'node:path';
import {
  AuthorConfigSchema,
  BUNDLED_AUTHOR_CONFIGS,
  readAuthorConfigs,
  type AuthorConfig,
} from '../collection/author-config.js';
import { gatherAuthors, type GatheredAuthors } from '../continuous-training/authors.js';
import { parseEnvironment } from '../settings/index.js';
import { retryingLazy } from '../shared/lazy.js';
import { AUTHOR_CONFIGS_PREFIX, AuthorLinksRepository } from '../workspace/author-links.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import {
  MapRunOutputSchema,
  mapItemsKey,
  readMapResults,
  writeMapItems,
  type MapItems,
} from '../workflows/distributed-map.js';
import { parseEvent } from './parse-event.js';

/**
 * The continuous-training workflow's author steps (statemachines/continuous-training.asl.json). `gather`:
 * the authors it was started with, joined with the link lists saved from the web app in the artifact
 * bucket (so a weekly run collects what users added there too), written to the item file its
 * Distributed Map reads. `summarize`: whether any author's collection stored something new, read from
 * the results that Map wrote.
 */
const GatherEventSchema = z.object({
  action: z.literal('gather'),
  /** The execution's name: the item file is named after it, so a retried step rewrites the same file. */
  executionName: z.string().min(1).max(80),
  input: z.object({
    authors: z.array(AuthorConfigSchema).max(1000).default([]),
    /** Also collect the author configs deployed with the function (configs/authors): the schedule's run. */
    configuredAuthors: z.boolean().default(false),
  }),
});

const SummarizeEventSchema = z.object({
  action: z.literal('summarize'),
  /** The Distributed Map's output: where its ResultWriter put each author's collection. */
  results: MapRunOutputSchema,
});

const CtAuthorsEventSchema = z.discriminatedUnion('action', [GatherEventSchema, SummarizeEventSchema]);

// Each child's output, from the workflow's own Pass states.
const CollectedSchema = z.looseObject({ author: z.string(), inserted: z.number(), new: z.boolean() });

/** What `gather` returns to the workflow: counts and where the authors are, never the list itself. */
export interface GatheredForRun {
  authors: number;
  items: MapItems;
  /** How many authors' lists came from the saved lists. */
  saved: number;
  /** Saved files that are not valid author configs: skipped, and named so someone fixes them. */
  unreadable: GatheredAuthors['unreadable'];
}

export interface CollectionOutcome {
  /** Whether any author's collection stored a new document. */
  any: boolean;
  authors: number;
  inserted: number;
}

export interface CtAuthorsServices {
  savedLists: AuthorLinksRepository;
  /** The artifact bucket: the Map's item file and results. */
  artifacts: ArtifactStore;
}

export function createCtAuthorsHandler(
  services: () => Promise<CtAuthorsServices>,
  logger?: Logger,
  configured: () => Promise<readonly AuthorConfig[]> = () => Promise.resolve([]),
) {
  return async (event: unknown): Promise<GatheredForRun | CollectionOutcome> => {
    const request = parseEvent(CtAuthorsEventSchema, event);
    const { savedLists, artifacts } = await services();
    if (request.action === 'summarize') {
      const results = await readMapResults(artifacts, request.results);
      if (results.failed.length > 0) {
        // The Map tolerates no failed author, so this is a run that stopped early: say so, never "nothing new".
        throw new Error(`${String(results.failed.length)} author collections failed`);
      }
      const collected = results.succeeded.map(({ output }) => CollectedSchema.parse(output));
      const outcome = {
        any: collected.some((author) => author.new),
        authors: collected.length,
        inserted: collected.reduce((sum, author) => sum + author.inserted, 0),
      };
      logger?.info('authors collected', { ...outcome });
      return outcome;
    }
    const { input } = request;
    const startedWith = input.configuredAuthors ? [...(await configured()), ...input.authors] : input.authors;
    const gathered = await gatherAuthors(startedWith, savedLists);
    if (gathered.unreadable.length > 0) {
      logger?.warn('saved author lists skipped', { unreadable: gathered.unreadable });
    }
    logger?.info('authors gathered', { authors: gathered.authors.length, saved: gathered.saved });
    const items = await writeMapItems(
      artifacts,
      mapItemsKey('continuous-training', request.executionName, 'authors'),
      gathered.authors,
    );
    return {
      authors: gathered.authors.length,
      items,
      saved: gathered.saved.length,
      unreadable: gathered.unreadable.slice(0, REPORTED_UNREADABLE),
    };
  };
}

/** Unreadable saved lists named in the workflow's state (all of them are in the function's log). */
const REPORTED_UNREADABLE = 20;

const logger = new Logger({ serviceName: 'llm-twin-continuous-training' });
const services = retryingLazy(() => {
  const env = parseEnvironment(z.object({ ARTIFACT_BUCKET: z.string().min(1) }), process.env);
  const artifacts = new S3ArtifactStore(new S3Client({}), env.ARTIFACT_BUCKET);
  return Promise.resolve({
    savedLists: new AuthorLinksRepository(artifacts, AUTHOR_CONFIGS_PREFIX),
    artifacts,
  });
});

/**
 * The author configs deployed with the function: configs/authors, copied into its bundle at synth
 * (so a schedule's input stays a few bytes, however many authors and links there are).
 */
const configured = retryingLazy(async () =>
  (await readAuthorConfigs(join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), BUNDLED_AUTHOR_CONFIGS))).map(
    ({ config }) => config,
  ),
);

export const handler = middy(createCtAuthorsHandler(services, logger, configured)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
