import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suppressFunctionBaseline } from './function-suppressions.js';
import { ContainerFunction } from './container-function.js';
import type { TwinSecrets } from './twin-secrets.js';
import { DEFAULT_EMBEDDING_MODEL_ID } from '../../lambdas/settings/settings.js';

const STATE_MACHINES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'statemachines');
const FEATURE_SECRETS = ['MONGODB_URI', 'QDRANT_URL', 'QDRANT_API_KEY'] as const;

export interface FeaturePipelineProps {
  readonly secrets: TwinSecrets;
  readonly embeddingModelId?: string;
}

/**
 * The feature pipeline on AWS: the features function (reads the MongoDB warehouse, writes the Qdrant
 * feature store) and the workflow of statemachines/features.asl.json that fans batches out to it.
 */
export class FeaturePipeline extends Construct {
  readonly function: ContainerFunction['function'];
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: FeaturePipelineProps) {
    super(scope, id);
    this.function = new ContainerFunction(this, 'Features', {
      handlerName: 'features',
      description: 'Feature pipeline: plans, cleans, chunks, embeds and loads document batches',
      embeddingModelId: props.embeddingModelId ?? DEFAULT_EMBEDDING_MODEL_ID,
      // The workflow's Map runs 4 batches at a time; a little headroom for a manual invocation.
      reservedConcurrentExecutions: 5,
      environment: {
        TWIN_WAREHOUSE: 'mongodb',
        TWIN_VECTOR_STORE: 'qdrant',
        ...props.secrets.environmentFor(FEATURE_SECRETS),
      },
    }).function;
    props.secrets.grantRead(this.function, FEATURE_SECRETS);

    const logGroup = new logs.LogGroup(this, 'WorkflowLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Workflow', {
      comment: 'Feature pipeline: warehouse documents -> cleaned and embedded snapshots',
      // Inlined (not an S3 asset) so the template and `cdk diff` show the workflow itself.
      definitionBody: sfn.DefinitionBody.fromString(
        readFileSync(join(STATE_MACHINES, 'features.asl.json'), 'utf8'),
      ),
      definitionSubstitutions: { FeaturesFunctionArn: this.function.functionArn },
      timeout: Duration.hours(2),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // The definition comes from a file, so CDK cannot infer what it calls: grant it explicitly.
    this.function.grantInvoke(this.stateMachine);

    suppressFunctionBaseline(this.function);
    NagSuppressions.addResourceSuppressions(
      this.stateMachine,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Invoking the features function by any version or alias (<arn>:*) is how Step Functions calls a ' +
            'function; CloudWatch Logs delivery and X-Ray APIs have no resource-level permissions.',
          appliesTo: [{ regex: '/^Resource::<.*Features.*\\.Arn>:\\*$/' }, 'Resource::*'],
        },
      ],
      true,
    );
  }
}
