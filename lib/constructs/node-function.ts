import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { traceWithXRay } from './unscoped-actions.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Optional dependencies of the MongoDB driver that we never use; left out of bundles. */
export const UNUSED_OPTIONAL_MODULES = [
  'kerberos',
  '@mongodb-js/zstd',
  'snappy',
  'socks',
  'aws4',
  'mongodb-client-encryption',
  'gcp-metadata',
  '@aws-sdk/credential-providers',
];

/**
 * Native modules that only the laptop adapters load (embedded vector store, in-process models), always
 * through a dynamic import; zip-bundled functions never reach them.
 */
export const LOCAL_ONLY_NATIVE_MODULES = [
  '@lancedb/lancedb',
  'onnxruntime-node',
  '@huggingface/transformers',
  'sharp',
  'node-llama-cpp',
];

/** ES modules in Lambda still meet CommonJS dependencies that call require(). */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export interface TwinFunctionProps extends Omit<
  NodejsFunctionProps,
  'entry' | 'runtime' | 'bundling' | 'logRetention' | 'logGroup'
> {
  /** Handler file under lambdas/handlers, without extension. */
  readonly handlerName: string;
  /** How long the function's logs are kept. Default: one month. */
  readonly logsRetainedFor?: logs.RetentionDays;
  /** Folders of the repository copied into the bundle (`from` relative to the root, `to` in the bundle). */
  readonly copyIntoBundle?: readonly { from: string; to: string }[];
}

/**
 * A Lambda function of this project: Node.js 24 on arm64, bundled locally by esbuild (no Docker) into
 * one minified ES module (class names kept), the AWS SDK taken from the runtime, X-Ray tracing on, its
 * own log group.
 */
export class TwinFunction extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: TwinFunctionProps) {
    super(scope, id);
    const { handlerName, logsRetainedFor, copyIntoBundle = [], ...functionProps } = props;
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logsRetainedFor ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, 'lambdas', 'handlers', `${handlerName}.ts`),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(30),
      logGroup,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        // Step Functions catches errors by the name Lambda reports (error.name); class names must
        // survive minification, or every ErrorEquals on them stops matching.
        keepNames: true,
        sourceMap: true,
        banner: ESM_REQUIRE_BANNER,
        externalModules: ['@aws-sdk/*', ...UNUSED_OPTIONAL_MODULES, ...LOCAL_ONLY_NATIVE_MODULES],
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) =>
            copyIntoBundle.map(({ from, to }) => `cp -R "${join(inputDir, from)}" "${join(outputDir, to)}"`),
        },
      },
      ...functionProps,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'llm-twin',
        ...functionProps.environment,
      },
    });
    traceWithXRay(this, this.function);
  }
}
