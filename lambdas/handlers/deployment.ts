import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { SageMakerTgiModel } from '../adapters/llm/sagemaker-tgi.js';
import { SageMakerModelRegistry } from '../adapters/registry/sagemaker.js';
import type { TwinHosting } from '../deployment/plan.js';
import { currentlyServing, DeploymentInputSchema, DeploymentService } from '../deployment/service.js';
import { parseEnvironment } from '../settings/index.js';
import { retryingLazy } from '../shared/lazy.js';
import { parseEvent } from './parse-event.js';

/**
 * The deployment workflow's function (statemachines/deployment.asl.json): `plan` turns an approved
 * model package into the SageMaker requests of a blue/green rollout; `smoke` asks the live endpoint
 * one question.
 */
const DeploymentEventSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('plan'),
    deploymentId: z.string().min(1).max(80),
    input: DeploymentInputSchema,
  }),
  z.object({ action: z.literal('smoke') }),
]);

export function createDeploymentHandler(service: () => Promise<DeploymentService>, logger?: Logger) {
  return async (event: unknown) => {
    const request = parseEvent(DeploymentEventSchema, event);
    const deployment = await service();
    if (request.action === 'plan') {
      const plan = await deployment.plan(request.deploymentId, request.input);
      logger?.info('planned deployment', { model: plan.modelPackageArn, endpoint: plan.endpointName });
      return plan;
    }
    return deployment.smokeTest();
  };
}

const logger = new Logger({ serviceName: 'llm-twin-deployment' });

const EnvSchema = z.object({
  STAGE: z.string().min(1),
  ENDPOINT_NAME: z.string().min(1),
  ENDPOINT_ROLE_ARN: z.string().min(1),
  /** Variant hosting: the instance type and count every new configuration keeps. */
  INSTANCE_TYPE: z.string().min(1).optional(),
  MIN_INSTANCES: z.coerce.number().int().min(1).default(1),
  /** Inference-component hosting (scale to zero): the component deployments update. */
  INFERENCE_COMPONENT: z.string().min(1).optional(),
  MODEL_PACKAGE_GROUP: z.string().min(1),
  ROLLBACK_ALARMS: z.string().min(1),
  TGI_ENVIRONMENT: z.string().min(2),
  BAKE_SECONDS: z.coerce.number().int().min(0).default(600),
});

/** The hosting the endpoint stack set up: an inference component when it names one, else the variant. */
function twinHosting(env: {
  INSTANCE_TYPE?: string | undefined;
  MIN_INSTANCES: number;
  INFERENCE_COMPONENT?: string | undefined;
}): TwinHosting {
  if (env.INFERENCE_COMPONENT) {
    return { kind: 'inference-component', inferenceComponentName: env.INFERENCE_COMPONENT };
  }
  if (!env.INSTANCE_TYPE) {
    throw new Error('INSTANCE_TYPE or INFERENCE_COMPONENT must be set: the endpoint stack sets one of them');
  }
  return { kind: 'variant', instanceType: env.INSTANCE_TYPE, minInstances: env.MIN_INSTANCES };
}

const sharedService = retryingLazy(() => {
  const env = parseEnvironment(EnvSchema, process.env);
  const sagemaker = new SageMakerClient({});
  const hosting = twinHosting(env);
  return Promise.resolve(
    new DeploymentService(
      {
        stage: env.STAGE,
        endpointName: env.ENDPOINT_NAME,
        roleArn: env.ENDPOINT_ROLE_ARN,
        hosting,
        rollbackAlarms: env.ROLLBACK_ALARMS.split(','),
        environment: z.record(z.string(), z.string()).parse(JSON.parse(env.TGI_ENVIRONMENT)),
        bakeSeconds: env.BAKE_SECONDS,
      },
      new SageMakerModelRegistry(sagemaker, {
        group: env.MODEL_PACKAGE_GROUP,
        inferenceImage: '',
        instanceTypes: [],
      }),
      () => currentlyServing(sagemaker, env.ENDPOINT_NAME, hosting),
      new SageMakerTgiModel(new SageMakerRuntimeClient({}), {
        endpointName: env.ENDPOINT_NAME,
        inferenceComponentName: env.INFERENCE_COMPONENT,
        maxNewTokens: 20,
        temperature: 0.01,
        topP: 0.9,
        repetitionPenalty: 1.1,
        timeoutMs: 60_000,
      }),
    ),
  );
});

export const handler = middy(createDeploymentHandler(sharedService, logger)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
