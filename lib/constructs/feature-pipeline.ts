import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { suppressFunctionBaseline } from './function-suppressions.js';
import { ContainerFunction } from './container-function.js';
import type { TwinSecrets } from './twin-secrets.js';
import { Workflow } from './workflow.js';
import { DEFAULT_EMBEDDING_MODEL_ID } from '../../lambdas/settings/settings.js';

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
      environment: {
        TWIN_WAREHOUSE: 'mongodb',
        TWIN_VECTOR_STORE: 'qdrant',
        ...props.secrets.environmentFor(FEATURE_SECRETS),
      },
    }).function;
    props.secrets.grantRead(this.function, FEATURE_SECRETS);

    this.stateMachine = new Workflow(this, 'Workflow', {
      definitionFile: 'features.asl.json',
      comment: 'Feature pipeline: warehouse documents -> cleaned and embedded snapshots',
      substitutions: { FeaturesFunctionArn: this.function.functionArn },
      invokes: [this.function],
      timeout: Duration.hours(2),
    }).stateMachine;
    suppressFunctionBaseline(this.function);
  }
}
