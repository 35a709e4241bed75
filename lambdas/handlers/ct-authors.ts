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
import { parseEvent } from './parse-event.js';

/**
 * The continuous-training workflow's first step (statemachines/continuous-training.asl.json): the
 * authors it was started with, joined with the link lists saved from the web app in the artifact
 * bucket, so a weekly run collects what users added there too.
 */
const CtAuthorsEventSchema = z.object({
  input: z.object({
    authors: z.array(AuthorConfigSchema).max(1000).default([]),
    /** Also collect the author configs deployed with the function (configs/authors): the schedule's run. */
    configuredAuthors: z.boolean().default(false),
  }),
});

export function createCtAuthorsHandler(
  savedLists: () => Promise<AuthorLinksRepository>,
  logger?: Logger,
  configured: () => Promise<readonly AuthorConfig[]> = () => Promise.resolve([]),
) {
  return async (event: unknown): Promise<GatheredAuthors> => {
    const { input } = parseEvent(CtAuthorsEventSchema, event);
    const startedWith = input.configuredAuthors ? [...(await configured()), ...input.authors] : input.authors;
    const gathered = await gatherAuthors(startedWith, await savedLists());
    if (gathered.unreadable.length > 0) {
      logger?.warn('saved author lists skipped', { unreadable: gathered.unreadable });
    }
    logger?.info('authors gathered', { authors: gathered.authors.length, saved: gathered.saved });
    return gathered;
  };
}

const logger = new Logger({ serviceName: 'llm-twin-continuous-training' });
const savedLists = retryingLazy(() => {
  const env = parseEnvironment(z.object({ ARTIFACT_BUCKET: z.string().min(1) }), process.env);
  return Promise.resolve(
    new AuthorLinksRepository(
      new S3ArtifactStore(new S3Client({}), env.ARTIFACT_BUCKET),
      AUTHOR_CONFIGS_PREFIX,
    ),
  );
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

export const handler = middy(createCtAuthorsHandler(savedLists, logger, configured)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
