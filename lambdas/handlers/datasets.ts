import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { S3ArtifactStore } from '../adapters/artifacts/s3.js';
import { HuggingFaceDatasetHub } from '../adapters/hub/huggingface.js';
import { OpenAiJsonModel } from '../adapters/llm/openai-json.js';
import { generateSamples, mergeReports, type GenerationReport } from '../datasets/generation.js';
import { collectExtracts, finishDataset, type DatasetInputs } from '../datasets/pipeline.js';
import type { DatasetKind } from '../datasets/prompts.js';
import { HUB_REPO, publishDataset, type PublishedDataset } from '../datasets/publish.js';
import { InvalidInputError, Uuid4Schema } from '../domain/index.js';
import type { FeatureStore } from '../features/feature-store.js';
import { openFeatureStoreForReading } from '../features/services.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { DatasetHub } from '../ports/dataset-hub.js';
import type { JsonChatModel } from '../ports/json-chat.js';
import { ModelAccessError } from '../ports/json-chat.js';
import { loadSettingsWithSecrets, type DatasetSettings } from '../settings/index.js';
import { retryingLazy } from '../shared/lazy.js';
import { mapItemsKey, writeMapItems } from '../workflows/distributed-map.js';
import { parseEvent } from './parse-event.js';

/**
 * The dataset workflow's function (statemachines/datasets.asl.json): `plan` cuts the cleaned snapshot
 * into extracts and stores them for the run, `generate` asks the LLM about one batch of them,
 * `finish` curates, splits and writes the versioned dataset. Intermediate results live under
 * `datasets/runs/<run id>/`, because they outgrow what a workflow may pass between states.
 */

const Kind = z.enum(['instruct', 'preference']);
const RunId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,80}$/u, 'must be an execution name (letters, digits, _ or -)');

export const DatasetRequestSchema = z.strictObject({
  kind: Kind,
  authorIds: z.array(Uuid4Schema).optional(),
  limit: z.number().int().min(1).optional(),
  extractsPerBatch: z.number().int().min(1).max(200).default(20),
  /** Publish the finished version to this Hugging Face Hub dataset repository (owner/name). */
  hubRepo: z.string().regex(HUB_REPO, 'must be a Hub repository as owner/name').optional(),
});

const DatasetEventSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('plan'), runId: RunId, request: DatasetRequestSchema }),
  z.object({
    action: z.literal('generate'),
    runId: RunId,
    kind: Kind,
    batch: z.number().int().min(0),
    extractsPerBatch: z.number().int().min(1),
  }),
  z.object({
    action: z.literal('finish'),
    runId: RunId,
    kind: Kind,
    batches: z.number().int().min(0),
    limit: z.number().int().min(1).optional(),
    hubRepo: z.string().regex(HUB_REPO, 'must be a Hub repository as owner/name').nullish(),
  }),
]);

export interface DatasetServices {
  features: FeatureStore;
  model: JsonChatModel;
  artifacts: ArtifactStore;
  settings: DatasetSettings;
  /** Opens a Hub dataset repository for publishing (needs the HF_TOKEN secret). */
  hub?: (repo: string) => Promise<DatasetHub>;
}

export class IncompleteRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompleteRunError';
  }
}

const runKey = (runId: string, name: string) => `datasets/runs/${runId}/${name}`;

async function readJson<T>(artifacts: ArtifactStore, key: string): Promise<T | undefined> {
  const text = await artifacts.read(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

export function createDatasetHandler(services: () => Promise<DatasetServices>, logger?: Logger) {
  return async (event: unknown) => {
    const request = parseEvent(DatasetEventSchema, event);
    const { features, model, artifacts, settings, hub } = await services();
    switch (request.action) {
      case 'plan': {
        const { kind, authorIds, limit, extractsPerBatch, hubRepo } = request.request;
        const inputs = await collectExtracts(features, {
          ...(authorIds ? { authorIds } : {}),
          ...(limit ? { limit } : {}),
        });
        await artifacts.write(runKey(request.runId, 'inputs.json'), JSON.stringify(inputs));
        const batches = Math.ceil(inputs.extracts.length / extractsPerBatch);
        // The batch numbers go to the Map's item file: the workflow's payload stays small however many.
        const items = await writeMapItems(
          artifacts,
          mapItemsKey('datasets', request.runId, 'batches'),
          Array.from({ length: batches }, (_, batch) => batch),
        );
        logger?.info('planned dataset run', { kind, extracts: inputs.extracts.length, batches });
        return {
          kind,
          hubRepo: hubRepo ?? null,
          extractsPerBatch,
          extracts: inputs.extracts.length,
          batches,
          items,
        };
      }
      case 'generate': {
        const inputs = await readJson<DatasetInputs>(artifacts, runKey(request.runId, 'inputs.json'));
        if (!inputs) throw new Error(`run ${request.runId} has no planned extracts`);
        const start = request.batch * request.extractsPerBatch;
        const extracts = inputs.extracts.slice(start, start + request.extractsPerBatch);
        // A refused key refuses every batch: once one batch has seen it, the others send nothing.
        const refusal = runKey(request.runId, 'refused.json');
        const refused = await readJson<{ status: number; message: string }>(artifacts, refusal);
        if (refused) {
          throw new ModelAccessError(
            `an earlier batch of this run was refused: ${refused.message}`,
            refused.status,
          );
        }
        let report: GenerationReport<DatasetKind>;
        try {
          report = await generateSamples(request.kind, model, extracts, settings.concurrency);
        } catch (error) {
          if (error instanceof ModelAccessError) {
            await artifacts.write(refusal, JSON.stringify({ status: error.status, message: error.message }));
          }
          throw error;
        }
        await artifacts.write(
          runKey(request.runId, `batch-${String(request.batch)}.json`),
          JSON.stringify(report),
        );
        const { samples, failures: _failures, ...counts } = report;
        logger?.info('generated batch', { batch: request.batch, samples: samples.length, ...counts });
        return { batch: request.batch, samples: samples.length, ...counts };
      }
      case 'finish': {
        const inputs = await readJson<DatasetInputs>(artifacts, runKey(request.runId, 'inputs.json'));
        if (!inputs) throw new Error(`run ${request.runId} has no planned extracts`);
        const reports: GenerationReport<DatasetKind>[] = [];
        let missingBatches = 0;
        for (let batch = 0; batch < request.batches; batch++) {
          const report = await readJson<GenerationReport<DatasetKind>>(
            artifacts,
            runKey(request.runId, `batch-${String(batch)}.json`),
          );
          if (report) reports.push(report);
          else missingBatches += 1;
        }
        if (missingBatches > 0) {
          // A dataset missing some extracts would still get a version of its own; refuse instead.
          throw new IncompleteRunError(
            `${String(missingBatches)} of ${String(request.batches)} batches failed after their retries; nothing was written. Start the workflow again.`,
          );
        }
        const result = await finishDataset(request.kind, inputs, mergeReports(reports), {
          model: model.model,
          settings,
          artifacts,
        });
        let publication: PublishedDataset | undefined;
        if (request.hubRepo) {
          if (!hub) throw new InvalidInputError('publishing to the Hub needs the HF_TOKEN secret', 'hubRepo');
          publication = await publishDataset(
            artifacts,
            await hub(request.hubRepo),
            request.kind,
            result.manifest.version,
          );
        }
        const summary = {
          version: result.manifest.version,
          location: `${artifacts.location}/${result.prefix}`,
          reused: result.reused,
          counts: Object.fromEntries(result.manifest.counts.map((count) => [count.stage, count.total])),
          splits: result.manifest.splits,
          estimatedCostUsd: result.manifest.generation.estimatedCostUsd,
          ...(publication
            ? { hub: { location: publication.location, published: publication.published } }
            : {}),
        };
        logger?.info('dataset written', summary);
        return summary;
      }
    }
  };
}

const logger = new Logger({ serviceName: 'llm-twin-datasets' });

const sharedServices = retryingLazy(async () => {
  const settings = await loadSettingsWithSecrets(process.env);
  const bucket = z
    .string()
    .min(1)
    .parse(process.env.ARTIFACT_BUCKET, { error: () => 'ARTIFACT_BUCKET is not set' });
  const model = await OpenAiJsonModel.create({
    ...settings.dataset,
    ...(settings.openAiBaseUrl ? { baseUrl: settings.openAiBaseUrl } : {}),
    ...(settings.secrets.OPENAI_API_KEY ? { apiKey: settings.secrets.OPENAI_API_KEY } : {}),
  });
  const { features } = await openFeatureStoreForReading(settings);
  const token = settings.secrets.HF_TOKEN;
  return {
    features,
    model,
    artifacts: new S3ArtifactStore(new S3Client({}), bucket),
    settings: settings.dataset,
    ...(token
      ? {
          hub: (repo: string) =>
            HuggingFaceDatasetHub.create({ repo, token, private: true, hubUrl: settings.hubUrl }),
        }
      : {}),
  };
});

export const handler = middy(createDatasetHandler(sharedServices, logger)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
