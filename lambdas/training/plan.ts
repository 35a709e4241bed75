import type { TrainingJobConfig } from './config.js';

type Hyperparameters = Record<string, string>;

/** The CreateTrainingJob request of one job, as the workflow passes it to SageMaker. */
export interface TrainingJobRequest {
  TrainingJobName: string;
  AlgorithmSpecification: {
    TrainingImage: string;
    TrainingInputMode: 'File';
    ContainerEntrypoint: string[];
    ContainerArguments: string[];
  };
  RoleArn: string;
  HyperParameters: Hyperparameters;
  InputDataConfig: {
    ChannelName: string;
    DataSource: {
      S3DataSource: { S3DataType: 'S3Prefix'; S3Uri: string; S3DataDistributionType: 'FullyReplicated' };
    };
  }[];
  OutputDataConfig: { S3OutputPath: string };
  ResourceConfig: { InstanceType: string; InstanceCount: 1; VolumeSizeInGB: number };
  StoppingCondition: { MaxRuntimeInSeconds: number; MaxWaitTimeInSeconds?: number };
  EnableManagedSpotTraining: boolean;
  CheckpointConfig: { S3Uri: string; LocalPath: string };
  Environment: Record<string, string>;
  Tags: { Key: string; Value: string }[];
}

export interface DatasetVersions {
  instruct: string;
  preference: string;
}

export interface TrainingPlan {
  runId: string;
  smoke: boolean;
  datasets: Partial<DatasetVersions>;
  baseModel: string;
  /** Absent when an existing model is only evaluated. */
  sft?: TrainingJobRequest;
  dpo?: TrainingJobRequest;
  evaluation: TrainingJobRequest;
  /** The model being judged and, if approved, deployed. */
  candidateModelS3Uri: string;
  /** The approved model when the run was planned, judged beside the candidate on the same rows. */
  baseline: Baseline | null;
  metricsS3Uri: string;
  hyperparameters: { sft?: Hyperparameters; dpo?: Hyperparameters };
}

/** The approved model: its package and, when the registry knows it, its artifact. */
export interface Baseline {
  arn: string;
  modelS3Uri?: string;
}

export interface TrainingRequest {
  datasets: DatasetVersions;
  smoke: boolean;
  baseline?: Baseline;
  baseModel?: string;
  /** Overrides of the jobs' hyperparameters (sagemaker/twin_training/hyperparameters.py). */
  sftHyperparameters?: Record<string, string | number | boolean>;
  dpoHyperparameters?: Record<string, string | number | boolean>;
}

export interface EvaluationRequest {
  datasets: Pick<DatasetVersions, 'instruct'>;
  baseline?: Baseline;
  modelS3Uri: string;
  modelName: string;
  smoke: boolean;
}

const MODELS_PREFIX = 'models';

/** A SageMaker job name stem from the execution name: letters, digits and dashes, short enough. */
export function runIdOf(executionName: string): string {
  const cleaned = executionName.replace(/[^A-Za-z0-9-]+/gu, '-').replace(/^-+|-+$/gu, '');
  return (cleaned || 'run').slice(0, 48).replace(/-+$/u, '');
}

function asStrings(values: Record<string, string | number | boolean> = {}): Hyperparameters {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, String(value)]));
}

function job(
  config: TrainingJobConfig,
  name: string,
  entry: 'finetune' | 'evaluate',
  channels: Record<string, string>,
  hyperparameters: Hyperparameters,
  instanceType: string,
): TrainingJobRequest {
  const bucket = `s3://${config.bucket}`;
  return {
    TrainingJobName: name,
    AlgorithmSpecification: {
      TrainingImage: config.trainingImage,
      TrainingInputMode: 'File',
      ContainerEntrypoint: ['bash', '/opt/ml/input/data/code/run.sh'],
      ContainerArguments: [entry],
    },
    RoleArn: config.roleArn,
    HyperParameters: hyperparameters,
    InputDataConfig: Object.entries({ code: config.codeS3Uri, ...channels }).map(([ChannelName, S3Uri]) => ({
      ChannelName,
      DataSource: {
        S3DataSource: { S3DataType: 'S3Prefix', S3Uri, S3DataDistributionType: 'FullyReplicated' },
      },
    })),
    OutputDataConfig: { S3OutputPath: `${bucket}/${MODELS_PREFIX}/` },
    ResourceConfig: { InstanceType: instanceType, InstanceCount: 1, VolumeSizeInGB: config.volumeSizeGb },
    StoppingCondition: {
      MaxRuntimeInSeconds: config.maxRuntimeSeconds,
      ...(config.spot ? { MaxWaitTimeInSeconds: config.maxWaitSeconds } : {}),
    },
    EnableManagedSpotTraining: config.spot,
    // Checkpoints are kept either way: with spot they let an interrupted job resume where it was.
    CheckpointConfig: { S3Uri: `${bucket}/checkpoints/${name}/`, LocalPath: '/opt/ml/checkpoints' },
    Environment: { PYTHONUNBUFFERED: '1' },
    Tags: [{ Key: 'project', Value: 'llm-twin' }],
  };
}

/** Where SageMaker puts a finished job's model. */
export function modelArtifactOf(config: TrainingJobConfig, jobName: string): string {
  return `s3://${config.bucket}/${MODELS_PREFIX}/${jobName}/output/model.tar.gz`;
}

const datasetPrefix = (config: TrainingJobConfig, kind: string, version: string) =>
  `s3://${config.bucket}/datasets/${kind}/${version}/`;

function evaluationJob(
  config: TrainingJobConfig,
  runId: string,
  instructVersion: string,
  modelS3Uri: string,
  modelName: string,
  smoke: boolean,
  baseline: Baseline | undefined,
): { request: TrainingJobRequest; metricsS3Uri: string } {
  const metricsS3Uri = `s3://${config.bucket}/evaluations/${runId}/metrics.json`;
  const request = job(
    config,
    `twin-${runId}-eval`,
    'evaluate',
    {
      dataset: datasetPrefix(config, 'instruct', instructVersion),
      model: modelS3Uri,
      // The approved model answers the same rows, judged by the same judge in the same job.
      ...(baseline?.modelS3Uri ? { baseline: baseline.modelS3Uri } : {}),
    },
    {
      model_name: modelName,
      ...(baseline?.modelS3Uri ? { baseline_name: baseline.arn } : {}),
      dataset_version: instructVersion,
      judge_model: config.judgeModel,
      metrics_s3_uri: metricsS3Uri,
      smoke: String(smoke),
      ...(config.openAiKeySecretArn ? { openai_key_secret_arn: config.openAiKeySecretArn } : {}),
      ...(config.openAiBaseUrl ? { openai_base_url: config.openAiBaseUrl } : {}),
    },
    config.evaluationInstanceType,
  );
  return { request, metricsS3Uri };
}

/**
 * The three jobs of a training run (SYSTEM.md §4-§5): SFT on the instruction dataset, DPO from the
 * SFT model on the preference dataset, then the judge's evaluation of the DPO model. Every path is
 * known in advance, so each job can name the previous one's output.
 */
export function planTraining(
  config: TrainingJobConfig,
  executionName: string,
  request: TrainingRequest,
): TrainingPlan {
  const runId = runIdOf(executionName);
  const secrets: Hyperparameters = config.hfTokenSecretArn
    ? { hf_token_secret_arn: config.hfTokenSecretArn }
    : {};
  const sftHyperparameters: Hyperparameters = {
    mode: 'sft',
    smoke: String(request.smoke),
    ...(request.baseModel ? { base_model: request.baseModel } : {}),
    ...asStrings(request.sftHyperparameters),
    ...secrets,
  };
  const dpoHyperparameters: Hyperparameters = {
    mode: 'dpo',
    smoke: String(request.smoke),
    ...asStrings(request.dpoHyperparameters),
    ...secrets,
  };
  const sftName = `twin-${runId}-sft`;
  const dpoName = `twin-${runId}-dpo`;
  const sft = job(
    config,
    sftName,
    'finetune',
    { dataset: datasetPrefix(config, 'instruct', request.datasets.instruct) },
    sftHyperparameters,
    config.instanceType,
  );
  const dpo = job(
    config,
    dpoName,
    'finetune',
    {
      dataset: datasetPrefix(config, 'preference', request.datasets.preference),
      base: modelArtifactOf(config, sftName),
    },
    dpoHyperparameters,
    config.instanceType,
  );
  const candidateModelS3Uri = modelArtifactOf(config, dpoName);
  const evaluation = evaluationJob(
    config,
    runId,
    request.datasets.instruct,
    candidateModelS3Uri,
    dpoName,
    request.smoke,
    request.baseline,
  );
  return {
    runId,
    smoke: request.smoke,
    datasets: request.datasets,
    baseModel: sftHyperparameters.base_model ?? 'meta-llama/Llama-3.1-8B',
    sft,
    dpo,
    evaluation: evaluation.request,
    candidateModelS3Uri,
    baseline: request.baseline ?? null,
    metricsS3Uri: evaluation.metricsS3Uri,
    hyperparameters: { sft: sftHyperparameters, dpo: dpoHyperparameters },
  };
}

/** Evaluation only: judge an existing model (a registered package's artifact, or any model.tar.gz). */
export function planEvaluation(
  config: TrainingJobConfig,
  executionName: string,
  request: EvaluationRequest,
): TrainingPlan {
  const runId = runIdOf(executionName);
  const evaluation = evaluationJob(
    config,
    runId,
    request.datasets.instruct,
    request.modelS3Uri,
    request.modelName,
    request.smoke,
    request.baseline,
  );
  return {
    runId,
    smoke: request.smoke,
    datasets: request.datasets,
    baseModel: 'unknown (evaluated as given)',
    evaluation: evaluation.request,
    candidateModelS3Uri: request.modelS3Uri,
    baseline: request.baseline ?? null,
    metricsS3Uri: evaluation.metricsS3Uri,
    hyperparameters: {},
  };
}
