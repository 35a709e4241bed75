import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IgnoreMode } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_EMBEDDING_MODEL_ID } from '../../lambdas/settings/settings.js';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ModelFunctionProps {
  /** Handler file under lambdas/handlers, without extension. */
  readonly handlerName: string;
  readonly description: string;
  /** Embedding model baked into the image. Default: all-MiniLM-L6-v2. */
  readonly embeddingModelId?: string;
  /** ONNX inference is CPU-bound and Lambda's CPU grows with memory. Default: 3008 MB (two vCPUs). */
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly environment?: Record<string, string>;
  /** Concurrency cap, so the workflow cannot exhaust the account's Lambda concurrency. */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A Lambda function that runs ONNX models in-process: a container image (lambdas/images/
 * model-function.Dockerfile) holding the bundled handler, ONNX Runtime and the model files, arm64,
 * X-Ray tracing on, its own log group. The image is built by `cdk deploy` (Docker needed there).
 */
export class ModelFunction extends Construct {
  readonly function: lambda.DockerImageFunction;

  constructor(scope: Construct, id: string, props: ModelFunctionProps) {
    super(scope, id);
    const embeddingModelId = props.embeddingModelId ?? DEFAULT_EMBEDDING_MODEL_ID;
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new lambda.DockerImageFunction(this, 'Function', {
      code: lambda.DockerImageCode.fromImageAsset(REPO_ROOT, {
        file: 'lambdas/images/model-function.Dockerfile',
        platform: Platform.LINUX_ARM64,
        buildArgs: { HANDLER: props.handlerName, EMBEDDING_MODEL_ID: embeddingModelId },
        ignoreMode: IgnoreMode.DOCKER,
      }),
      description: props.description,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 3008,
      timeout: props.timeout ?? Duration.minutes(15),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      environment: {
        POWERTOOLS_SERVICE_NAME: 'llm-twin',
        TWIN_EMBEDDING_MODEL_ID: embeddingModelId,
        ...props.environment,
      },
    });
  }
}
