import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { openWarehouse } from '../adapters/warehouse/index.js';
import { CategorySchema, Uuid4Schema } from '../domain/index.js';
import {
  planFeatureBatches,
  summarizeFeatureRun,
  type BatchOutcome,
  type FeaturePlan,
  type FeatureRunTotals,
} from '../features/batches.js';
import type { FeatureStore } from '../features/feature-store.js';
import { featurizeDocuments, type BatchReport } from '../features/pipeline.js';
import { openFeatureServices } from '../features/services.js';
import type { Embedder } from '../ports/embedder.js';
import type { Warehouse } from '../ports/warehouse.js';
import { loadSettingsWithSecrets } from '../settings/index.js';
import { retryingLazy } from '../shared/lazy.js';
import { parseEvent } from './parse-event.js';

/**
 * The feature pipeline's function, driven by statemachines/features.asl.json: `plan` lists the new or
 * changed documents in batches, `featurize` processes one batch, `summarize` totals the batch results.
 */

const MAX_BATCH = 64;

/** The workflow's execution input, passed through as is: unknown fields are mistakes, so they fail. */
export const FeatureRunRequestSchema = z.strictObject({
  authorIds: z.array(Uuid4Schema).optional(),
  categories: z.array(CategorySchema).min(1).optional(),
  batchSize: z.number().int().min(1).max(MAX_BATCH).default(16),
});

const PlanEventSchema = z.object({
  action: z.literal('plan'),
  request: FeatureRunRequestSchema.default({ batchSize: 16 }),
});

const FeaturizeEventSchema = z.object({
  action: z.literal('featurize'),
  category: CategorySchema,
  documentIds: z.array(Uuid4Schema).min(1).max(MAX_BATCH),
});

const SummarizeEventSchema = z.object({
  action: z.literal('summarize'),
  unchanged: z.number().int().min(0).default(0),
  // Batch results come from our own function through the workflow; their shape is checked loosely.
  results: z.array(z.looseObject({ category: CategorySchema })),
});

export const FeaturesEventSchema = z.discriminatedUnion('action', [
  PlanEventSchema,
  FeaturizeEventSchema,
  SummarizeEventSchema,
]);

export interface FeatureServices {
  warehouse: Warehouse;
  features: FeatureStore;
  embedder: Embedder;
}

type FeaturesResult = FeaturePlan | (BatchReport & { category: string }) | FeatureRunTotals;

export function createFeaturesHandler(services: () => Promise<FeatureServices>, logger?: Logger) {
  return async (event: unknown): Promise<FeaturesResult> => {
    const request = parseEvent(FeaturesEventSchema, event);
    const { warehouse, features, embedder } = await services();
    switch (request.action) {
      case 'plan': {
        await features.ensureCollections();
        const { authorIds, categories, batchSize } = request.request;
        const plan = await planFeatureBatches(
          { warehouse, features, embedder },
          { batchSize, ...(authorIds ? { authorIds } : {}), ...(categories ? { categories } : {}) },
        );
        logger?.info('planned feature batches', {
          documents: plan.documents,
          unchanged: plan.unchanged,
          batches: plan.batches.length,
        });
        return plan;
      }
      case 'featurize': {
        const documents = [];
        for await (const document of warehouse.streamDocuments({
          category: request.category,
          ids: request.documentIds,
        })) {
          documents.push(document);
        }
        const report = await featurizeDocuments({ features, embedder }, request.category, documents);
        logger?.info('featurized batch', { category: request.category, ...report });
        return { category: request.category, ...report };
      }
      case 'summarize': {
        const totals = await summarizeFeatureRun(
          features,
          request.results as unknown as BatchOutcome[],
          request.unchanged,
        );
        logger?.info('feature run finished', { ...totals });
        return totals;
      }
    }
  };
}

const logger = new Logger({ serviceName: 'llm-twin-features' });

// Settings, connections and the model are loaded once per container; loading starts during init.
const sharedServices = retryingLazy(async () => {
  const settings = await loadSettingsWithSecrets(process.env);
  const [warehouse, { embedder, features }] = await Promise.all([
    openWarehouse(settings),
    openFeatureServices(settings),
  ]);
  return { warehouse, embedder, features };
});
if (process.env.AWS_LAMBDA_FUNCTION_NAME) void sharedServices().catch(() => undefined);

export const handler = middy(createFeaturesHandler(sharedServices, logger)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
