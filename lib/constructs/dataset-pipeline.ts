import { Duration } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { WORKFLOW_ITEMS_PREFIX } from '../../lambdas/workflows/distributed-map.js';
import { bucketPrefixSuppression, suppressFunctionBaseline } from './function-suppressions.js';
import { TwinFunction } from './node-function.js';
import type { TwinSecrets } from './twin-secrets.js';
import { Workflow } from './workflow.js';

const DATASET_SECRETS = ['OPENAI_API_KEY', 'QDRANT_URL', 'QDRANT_API_KEY', 'HF_TOKEN'] as const;
export const DATASETS_PREFIX = 'datasets/';
const DATASET_RUNS = `${WORKFLOW_ITEMS_PREFIX}datasets/`;

export interface DatasetPipelineProps {
  readonly artifacts: s3.IBucket;
  readonly secrets: TwinSecrets;
  /** An OpenAI-compatible endpoint instead of OpenAI's. */
  readonly openAiBaseUrl?: string;
  readonly model?: string;
  /** Batches generated at once (the stage config's workflows.concurrency.datasets). */
  readonly concurrency?: number;
}

/**
 * Dataset generation on AWS: the datasets function (reads the Qdrant cleaned snapshot, calls the LLM,
 * writes under `datasets/` in the artifact bucket) and the workflow of statemachines/datasets.asl.json.
 */
export class DatasetPipeline extends Construct {
  readonly function: TwinFunction['function'];
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: DatasetPipelineProps) {
    super(scope, id);
    this.function = new TwinFunction(this, 'Datasets', {
      handlerName: 'datasets',
      description:
        'Dataset generation: plans extracts, generates a batch with the LLM, curates and writes the dataset',
      timeout: Duration.minutes(15),
      memorySize: 1024,
      environment: {
        ARTIFACT_BUCKET: props.artifacts.bucketName,
        TWIN_VECTOR_STORE: 'qdrant',
        ...(props.openAiBaseUrl ? { OPENAI_BASE_URL: props.openAiBaseUrl } : {}),
        ...(props.model ? { TWIN_DATASET_MODEL: props.model } : {}),
        ...props.secrets.environmentFor(DATASET_SECRETS),
      },
    }).function;
    props.secrets.grantRead(this.function, DATASET_SECRETS);
    props.artifacts.grantReadWrite(this.function, `${DATASETS_PREFIX}*`);
    // The plan writes the batch numbers' item file for the workflow's Map.
    props.artifacts.grantReadWrite(this.function, `${DATASET_RUNS}*`);
    suppressFunctionBaseline(this.function, [
      bucketPrefixSuppression(
        DATASETS_PREFIX,
        'Reads and writes objects under the datasets/ prefix only (object names carry run ids and versions).',
      ),
      bucketPrefixSuppression(
        DATASET_RUNS,
        'Writes the batch item file of its own workflow, under workflow-runs/datasets/ only.',
      ),
    ]);

    this.stateMachine = new Workflow(this, 'Workflow', {
      definitionFile: 'datasets.asl.json',
      comment: 'Dataset generation: cleaned snapshot -> LLM -> curated, versioned dataset',
      substitutions: { DatasetFunctionArn: this.function.functionArn },
      invokes: [this.function],
      timeout: Duration.hours(4),
      mapBucket: props.artifacts,
      ...(props.concurrency ? { mapConcurrency: { GenerateBatches: props.concurrency } } : {}),
    }).stateMachine;
  }
}
