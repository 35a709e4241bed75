import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { S3ArtifactStore } from '../adapters/artifacts/s3.js';
import { SageMakerModelRegistry } from '../adapters/registry/sagemaker.js';
import { retryingLazy } from '../shared/lazy.js';
import { trainingConfigFromEnv } from '../training/config.js';
import type { TrainingPlan } from '../training/plan.js';
import { TrainingInputSchema, TrainingService } from '../training/service.js';
import { parseEvent } from './parse-event.js';

/**
 * The training workflow's function (statemachines/training.asl.json): `plan` picks the datasets and
 * writes the three SageMaker job requests; `register` records the evaluated model in the registry and
 * approves or rejects it against the approved one.
 */
const TrainingEventSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('plan'),
    executionName: z.string().min(1).max(80),
    input: TrainingInputSchema,
  }),
  z.object({
    action: z.literal('register'),
    plan: z.custom<TrainingPlan>(
      (value) =>
        typeof value === 'object' && value !== null && 'metricsS3Uri' in value && 'evaluation' in value,
      'must be the plan the plan step returned',
    ),
  }),
]);

export function createTrainingHandler(service: () => Promise<TrainingService>, logger?: Logger) {
  return async (event: unknown) => {
    const request = parseEvent(TrainingEventSchema, event);
    const training = await service();
    if (request.action === 'plan') {
      const plan = await training.plan(request.executionName, request.input);
      logger?.info('planned training run', { runId: plan.runId, datasets: plan.datasets, smoke: plan.smoke });
      return plan;
    }
    const registration = await training.register(request.plan);
    logger?.info('registered model', { ...registration });
    return registration;
  };
}

const logger = new Logger({ serviceName: 'llm-twin-training' });

const sharedService = retryingLazy(() => {
  const config = trainingConfigFromEnv(process.env);
  return Promise.resolve(
    new TrainingService(
      config,
      new S3ArtifactStore(new S3Client({}), config.bucket),
      new SageMakerModelRegistry(new SageMakerClient({}), {
        group: config.modelPackageGroup,
        inferenceImage: config.inferenceImage,
        instanceTypes: ['ml.g5.2xlarge', 'ml.g5.4xlarge', 'ml.g6.2xlarge'],
      }),
    ),
  );
});

export const handler = middy(createTrainingHandler(sharedService, logger)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
