import { Duration } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { bucketPrefixSuppression, suppressFunctionBaseline } from './function-suppressions.js';
import { ContainerFunction } from './container-function.js';
import type { TwinSecrets } from './twin-secrets.js';
import { Workflow } from './workflow.js';
import { DEFAULT_EMBEDDING_MODEL_ID } from '../../lambdas/settings/settings.js';
import { WORKFLOW_ITEMS_PREFIX } from '../../lambdas/workflows/distributed-map.js';

const FEATURE_RUNS = `${WORKFLOW_ITEMS_PREFIX}features/`;
const FEATURE_SECRETS = ['MONGODB_URI', 'QDRANT_URL', 'QDRANT_API_KEY'] as const;

export interface FeaturePipelineProps {
  readonly secrets: TwinSecrets;
  readonly embeddingModelId?: string;
  /** The artifact bucket: the batches' item file and the Map's results. */
  readonly artifacts: s3.IBucket;
  /** Batches featurised at once (the stage config's workflows.concurrency.features). */
  readonly concurrency?: number;
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
      environment: {
        TWIN_WAREHOUSE: 'mongodb',
        TWIN_VECTOR_STORE: 'qdrant',
        ARTIFACT_BUCKET: props.artifacts.bucketName,
        ...props.secrets.environmentFor(FEATURE_SECRETS),
      },
    }).function;
    props.secrets.grantRead(this.function, FEATURE_SECRETS);
    // The plan writes the item file; the summary reads the Map's results. Nothing else in the bucket.
    props.artifacts.grantReadWrite(this.function, `${FEATURE_RUNS}*`);

    this.stateMachine = new Workflow(this, 'Workflow', {
      definitionFile: 'features.asl.json',
      comment: 'Feature pipeline: warehouse documents -> cleaned and embedded snapshots',
      substitutions: { FeaturesFunctionArn: this.function.functionArn },
      invokes: [this.function],
      // 100k changed documents take about 25 minutes at prod's 40 batches at once, 1M about 4 hours
      // (README, "Sizing the workflows"); the workflow file says the same.
      timeout: Duration.hours(24),
      mapBucket: props.artifacts,
      ...(props.concurrency ? { mapConcurrency: { FeaturizeBatches: props.concurrency } } : {}),
    }).stateMachine;
    suppressFunctionBaseline(this.function, [
      bucketPrefixSuppression(
        FEATURE_RUNS,
        'Writes the batch item file and reads the Map results of its own workflow, under workflow-runs/features/ only.',
      ),
    ]);
  }
}
