import type { SFNClient } from '@aws-sdk/client-sfn';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ModelRegistry, RegisteredModel } from '../ports/model-registry.js';
import { TrainingInputSchema, type TrainingInput } from './service.js';
import { InvalidInputError, describeZodIssues } from '../domain/index.js';

/** The workflow input, validated here so that a bad one fails before anything starts. */
export function trainingInput(raw: Record<string, unknown>): TrainingInput {
  const parsed = TrainingInputSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidInputError(describeZodIssues(parsed.error).join('; '));
  return parsed.data;
}

/** Starts the training workflow; returns the execution ARN. */
export async function startTrainingWorkflow(
  client: SFNClient,
  stateMachineArn: string,
  input: TrainingInput,
): Promise<string> {
  const started = await client.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
  );
  if (!started.executionArn) throw new Error('Step Functions returned no execution ARN');
  return started.executionArn;
}

/** The AWS CLI command that does the same, for machines without credentials or configuration. */
export function startCommandFor(stateMachineArn: string | undefined, input: TrainingInput): string {
  const arn = stateMachineArn ?? '<TrainingWorkflowArn output of the LlmTwin-<stage>-Training stack>';
  return `aws stepfunctions start-execution --state-machine-arn ${arn} --input '${JSON.stringify(input)}'`;
}

/** A model package ARN's artifact, or the S3 URI as given. */
export async function modelArtifact(registry: Pick<ModelRegistry, 'list'>, model: string): Promise<string> {
  if (model.startsWith('s3://')) return model;
  const found = (await registry.list(100)).find((candidate) => candidate.arn === model);
  if (!found?.modelS3Uri)
    throw new InvalidInputError(`no registered model ${model} with an artifact`, 'model');
  return found.modelS3Uri;
}

export function formatModels(models: readonly RegisteredModel[]): string {
  if (models.length === 0) return 'No models registered yet: run `twin train`.';
  const score = (value: number | null) => (value === null ? '  -  ' : value.toFixed(3));
  return [
    'version  status                 accuracy  style  created                   datasets (instruct/preference)',
    ...models.map(
      (model) =>
        `${String(model.version).padEnd(8)} ${model.status.padEnd(22)} ${score(model.scores.accuracy).padEnd(9)} ${score(model.scores.style).padEnd(6)} ${model.createdAt.padEnd(25)} ${model.metadata.dataset_instruct ?? '?'}/${model.metadata.dataset_preference ?? '?'}${model.metadata.smoke === 'true' ? ' (smoke)' : ''}`,
    ),
  ].join('\n');
}
