import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { lazyS3ArtifactStore } from '../adapters/artifacts/lazy.js';
import { openWarehouse } from '../adapters/warehouse/index.js';
import { CategorySchema, Uuid4Schema } from '../domain/index.js';
import {
  planFeatureBatches,
  summarizeFeatureRun,
  type BatchOutcome,
  type DocumentBatch,
  type FeatureRunTotals,
} from '../features/batches.js';
import type { FeatureStore } from '../features/feature-store.js';
import { featurizeDocuments, type BatchReport } from '../features/pipeline.js';
import { openFeatureServices } from '../features/services.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { Embedder } from '../ports/embedder.js';
import type { Warehouse } from '../ports/warehouse.js';
import { loadSettingsWithSecrets, parseEnvironment } from '../settings/index.js';
import { retryingLazy } from '../shared/lazy.js';
import {
  MapRunOutputSchema,
  mapItemsKey,
  readMapResults,
  writeMapItems,
  type MapItems,
} from '../workflows/distributed-map.js';
import { parseEvent } from './parse-event.js';

/**
 * The feature pipeline's function, driven by statemachines/features.asl.json: `plan` writes the new or
 * changed documents, in batches, to the item file the workflow's Distributed Map reads; `featurize`
 * processes one batch; `summarize` totals the batch results the Map wrote to the artifact bucket.
 */

const MAX_BATCH = 64;
const REPORTED_FAILED_BATCHES = 20;

/** The workflow's execution input, passed through as is: unknown fields are mistakes, so they fail. */
export const FeatureRunRequestSchema = z.strictObject({
  authorIds: z.array(Uuid4Schema).optional(),
  categories: z.array(CategorySchema).min(1).optional(),
  batchSize: z.number().int().min(1).max(MAX_BATCH).default(16),
});

const PlanEventSchema = z.object({
  action: z.literal('plan'),
  /** The execution's name: its item file is named after it, so a retried plan rewrites the same file. */
  executionName: z.string().min(1).max(80),
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
  /** The Distributed Map's output: where its ResultWriter put the children's results. */
  results: MapRunOutputSchema,
});

// Batch results come from our own function through the workflow; their shape is checked loosely.
const BatchOutcomeSchema = z.looseObject({ category: CategorySchema });

export const FeaturesEventSchema = z.discriminatedUnion('action', [
  PlanEventSchema,
  FeaturizeEventSchema,
  SummarizeEventSchema,
]);

export interface FeatureServices {
  warehouse: Warehouse;
  features: FeatureStore;
  embedder: Embedder;
  /** The artifact bucket: item files of the batches, and the Map's results. */
  artifacts: ArtifactStore;
}

/** What `plan` returns to the workflow: counts and where the batches are, never the batches. */
export interface PlannedFeatureRun {
  documents: number;
  unchanged: number;
  batches: number;
  items: MapItems;
}

type FeaturesResult =
  | PlannedFeatureRun
  | (BatchReport & { category: string })
  | (FeatureRunTotals & { failedBatchCount: number });

/** A child that failed outside its own catch (a timeout, say) is reported as its batch failing. */
function outcomesOf(results: Awaited<ReturnType<typeof readMapResults>>): BatchOutcome[] {
  const outcomes = results.succeeded.map(
    ({ output }) => BatchOutcomeSchema.parse(output) as unknown as BatchOutcome,
  );
  for (const { input, error } of results.failed) {
    const batch = input as DocumentBatch;
    outcomes.push({ ...batch, failed: true, error });
  }
  return outcomes;
}

export function createFeaturesHandler(services: () => Promise<FeatureServices>, logger?: Logger) {
  return async (event: unknown): Promise<FeaturesResult> => {
    const request = parseEvent(FeaturesEventSchema, event);
    const { warehouse, features, embedder, artifacts } = await services();
    switch (request.action) {
      case 'plan': {
        await features.ensureCollections();
        const { authorIds, categories, batchSize } = request.request;
        const plan = await planFeatureBatches(
          { warehouse, features, embedder },
          { batchSize, ...(authorIds ? { authorIds } : {}), ...(categories ? { categories } : {}) },
        );
        const items = await writeMapItems(
          artifacts,
          mapItemsKey('features', request.executionName, 'batches'),
          plan.batches,
        );
        const planned = {
          documents: plan.documents,
          unchanged: plan.unchanged,
          batches: plan.batches.length,
          items,
        };
        logger?.info('planned feature batches', { ...planned });
        return planned;
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
        const results = await readMapResults(artifacts, request.results);
        const totals = await summarizeFeatureRun(features, outcomesOf(results), request.unchanged);
        logger?.info('feature run finished', { ...totals, failedBatches: totals.failedBatches.length });
        // Every failed batch is in the Map's result files; the output names the first few, within the payload limit.
        return {
          ...totals,
          failedBatches: totals.failedBatches.slice(0, REPORTED_FAILED_BATCHES),
          failedBatchCount: totals.failedBatches.length,
        };
      }
    }
  };
}

const logger = new Logger({ serviceName: 'llm-twin-features' });

// Settings, connections and the model are loaded once per container; loading starts during init.
const sharedServices = retryingLazy(async () => {
  const settings = await loadSettingsWithSecrets(process.env);
  const { ARTIFACT_BUCKET: bucket } = parseEnvironment(
    z.object({ ARTIFACT_BUCKET: z.string().min(1) }),
    process.env,
  );
  const [warehouse, { embedder, features }] = await Promise.all([
    openWarehouse(settings),
    openFeatureServices(settings),
  ]);
  return { warehouse, embedder, features, artifacts: lazyS3ArtifactStore(bucket) };
});
if (process.env.AWS_LAMBDA_FUNCTION_NAME) void sharedServices().catch(() => undefined);

export const handler = middy(createFeaturesHandler(sharedServices, logger)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
