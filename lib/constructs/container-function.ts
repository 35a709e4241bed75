import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IgnoreMode } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { RerankPrecision } from '../../lambdas/settings/settings.js';
import { traceWithXRay } from './unscoped-actions.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ContainerFunctionProps {
  /** Handler file under lambdas/handlers, without extension. */
  readonly handlerName: string;
  readonly description: string;
  /** Embedding model baked into the image (and named in TWIN_EMBEDDING_MODEL_ID); none when absent. */
  readonly embeddingModelId?: string;
  /** Cross-encoder baked in beside the embedding model (named in TWIN_RERANK_MODEL_ID). */
  readonly rerankModelId?: string;
  /** The cross-encoder's precision: the file baked in, and TWIN_RERANK_PRECISION. */
  readonly rerankPrecision?: RerankPrecision;
  /** Amazon Linux packages installed in the image (the crawler needs git). */
  readonly systemPackages?: readonly string[];
  /** Lambda's CPU grows with memory (ONNX inference, Chromium). Default: 3008 MB (two vCPUs). */
  readonly memorySize?: number;
  readonly timeout?: Duration;
  readonly environment?: Record<string, string>;
  /**
   * The CPU the image is built for and runs on. Default: arm64 (cheaper per GB-second). A function
   * whose native binaries exist for x86-64 only (the crawler's Chromium) must say x86_64.
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Executions set aside for this function alone (and its ceiling). Workflow functions need none: their
   * Map's MaxConcurrency bounds them, and a cap below it only throttles the workflow (README, "Lambda
   * concurrency").
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A Lambda function shipped as a container image (lambdas/images/function.Dockerfile): the bundled
 * handler with its node_modules, plus a baked-in model or system packages when asked; arm64 unless
 * asked otherwise, X-Ray tracing on, its own log group. The image is built by `cdk deploy` (Docker needed there).
 */
export class ContainerFunction extends Construct {
  readonly function: lambda.DockerImageFunction;

  constructor(scope: Construct, id: string, props: ContainerFunctionProps) {
    super(scope, id);
    const embeddingModelId = props.embeddingModelId ?? '';
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new lambda.DockerImageFunction(this, 'Function', {
      code: lambda.DockerImageCode.fromImageAsset(REPO_ROOT, {
        file: 'lambdas/images/function.Dockerfile',
        platform: architecture === lambda.Architecture.X86_64 ? Platform.LINUX_AMD64 : Platform.LINUX_ARM64,
        buildArgs: {
          HANDLER: props.handlerName,
          EMBEDDING_MODEL_ID: embeddingModelId,
          RERANK_MODEL_ID: props.rerankModelId ?? '',
          RERANK_PRECISION: props.rerankPrecision ?? '',
          SYSTEM_PACKAGES: (props.systemPackages ?? []).join(' '),
        },
        ignoreMode: IgnoreMode.DOCKER,
      }),
      description: props.description,
      architecture,
      memorySize: props.memorySize ?? 3008,
      timeout: props.timeout ?? Duration.minutes(15),
      logGroup,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      environment: {
        POWERTOOLS_SERVICE_NAME: 'llm-twin',
        ...(embeddingModelId ? { TWIN_EMBEDDING_MODEL_ID: embeddingModelId } : {}),
        ...(props.rerankModelId ? { TWIN_RERANK_MODEL_ID: props.rerankModelId } : {}),
        ...(props.rerankPrecision ? { TWIN_RERANK_PRECISION: props.rerankPrecision } : {}),
        ...props.environment,
      },
    });
    traceWithXRay(this, this.function);
  }
}
