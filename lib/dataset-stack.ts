import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DatasetPipeline } from './constructs/dataset-pipeline.js';
import type { TwinSecrets } from './constructs/twin-secrets.js';
import { tagTwinResources } from './constructs/tags.js';

export interface DatasetStackProps extends StackProps {
  readonly stage: string;
  readonly artifacts: s3.IBucket;
  readonly secrets: TwinSecrets;
  readonly openAiBaseUrl?: string;
  /** Batches generated at once (stage config workflows.concurrency.datasets). */
  readonly concurrency?: number;
}

/** Dataset generation: instruction and preference datasets as versioned artifacts in the bucket. */
export class DatasetStack extends Stack {
  readonly pipeline: DatasetPipeline;

  constructor(scope: Construct, id: string, props: DatasetStackProps) {
    super(scope, id, props);
    tagTwinResources(this, props.stage);
    this.pipeline = new DatasetPipeline(this, 'Datasets', {
      artifacts: props.artifacts,
      secrets: props.secrets,
      ...(props.openAiBaseUrl ? { openAiBaseUrl: props.openAiBaseUrl } : {}),
      ...(props.concurrency ? { concurrency: props.concurrency } : {}),
    });
    new CfnOutput(this, 'DatasetWorkflowArn', {
      value: this.pipeline.stateMachine.stateMachineArn,
      description:
        'Start with: aws stepfunctions start-execution --state-machine-arn <this> --input \'{"kind":"instruct"}\'',
    });
  }
}
