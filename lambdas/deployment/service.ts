import {
  DescribeEndpointCommand,
  DescribeInferenceComponentCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { z } from 'zod';
import { InvalidInputError } from '../domain/index.js';
import type { ChatModel } from '../ports/chat-model.js';
import type { ModelRegistry } from '../ports/model-registry.js';
import { planDeployment, type DeploymentConfig, type DeploymentPlan, type TwinHosting } from './plan.js';

export const DeploymentInputSchema = z.strictObject({
  /** Deploy this approved package; default: the newest approved one. */
  modelPackageArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/.+$/u, 'must be a model package ARN')
    .optional(),
});
export type DeploymentInput = z.output<typeof DeploymentInputSchema>;

/**
 * What the endpoint serves now, as the deployment plan names it: the endpoint configuration (variant
 * hosting) or the inference component's model. Undefined when there is no endpoint or component yet.
 */
export async function currentlyServing(
  client: SageMakerClient,
  endpointName: string,
  hosting: TwinHosting,
): Promise<string | undefined> {
  try {
    if (hosting.kind === 'inference-component') {
      const component = await client.send(
        new DescribeInferenceComponentCommand({ InferenceComponentName: hosting.inferenceComponentName }),
      );
      return component.Specification?.ModelName;
    }
    const endpoint = await client.send(new DescribeEndpointCommand({ EndpointName: endpointName }));
    return endpoint.EndpointConfigName;
  } catch (error) {
    // SageMaker answers a describe of something that does not exist with a ValidationException.
    if ((error as { name?: string }).name === 'ValidationException') return undefined;
    throw error;
  }
}

/** The deployment workflow's own steps: plan the rollout of an approved model, smoke-test the endpoint. */
export class DeploymentService {
  constructor(
    private readonly config: DeploymentConfig,
    private readonly registry: Pick<ModelRegistry, 'approved' | 'list'>,
    private readonly servedNow: () => Promise<string | undefined>,
    private readonly twin: ChatModel,
  ) {}

  async plan(deploymentId: string, input: DeploymentInput): Promise<DeploymentPlan> {
    const model = input.modelPackageArn
      ? (await this.registry.list(100)).find((candidate) => candidate.arn === input.modelPackageArn)
      : await this.registry.approved();
    if (!model) {
      throw new InvalidInputError(
        input.modelPackageArn
          ? `no model package ${input.modelPackageArn} in the registry`
          : 'no approved model to deploy yet',
        'modelPackageArn',
      );
    }
    if (!model.image)
      throw new InvalidInputError(`model package ${model.arn} names no container image`, 'modelPackageArn');
    return planDeployment(
      this.config,
      { ...model, image: model.image },
      deploymentId,
      await this.servedNow(),
    );
  }

  /** One short request through the live endpoint: it must answer with some text. */
  async smokeTest(): Promise<{ ok: true; sample: string }> {
    const { text } = await this.twin.generate({
      system: 'Answer in one short sentence.',
      user: 'Request: say hello.',
    });
    if (text.trim() === '')
      throw new Error(`the endpoint ${this.config.endpointName} answered with empty text`);
    return { ok: true, sample: text.slice(0, 200) };
  }
}
