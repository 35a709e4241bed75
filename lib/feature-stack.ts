import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { FeaturePipeline } from './constructs/feature-pipeline.js';
import type { TwinSecrets } from './constructs/twin-secrets.js';
import { tagTwinResources } from './constructs/tags.js';

export interface FeatureStackProps extends StackProps {
  readonly stage: string;
  /** The foundation's secrets (MongoDB warehouse, Qdrant feature store). */
  readonly secrets: TwinSecrets;
  /** Embedding model baked into the function image. Default: all-MiniLM-L6-v2. */
  readonly embeddingModelId?: string;
  /** The foundation's artifact bucket: the workflow's item files and Map results. */
  readonly artifacts: s3.IBucket;
  /** Batches featurised at once (stage config workflows.concurrency.features). */
  readonly concurrency?: number;
}

/** The feature pipeline: warehouse documents into the cleaned and embedded snapshots of the feature store. */
export class FeatureStack extends Stack {
  readonly pipeline: FeaturePipeline;

  constructor(scope: Construct, id: string, props: FeatureStackProps) {
    super(scope, id, props);
    tagTwinResources(this, props.stage);
    this.pipeline = new FeaturePipeline(this, 'FeaturePipeline', {
      secrets: props.secrets,
      artifacts: props.artifacts,
      ...(props.concurrency ? { concurrency: props.concurrency } : {}),
      ...(props.embeddingModelId ? { embeddingModelId: props.embeddingModelId } : {}),
    });
    new CfnOutput(this, 'FeatureWorkflowArn', {
      value: this.pipeline.stateMachine.stateMachineArn,
      description: 'Start with: aws stepfunctions start-execution --state-machine-arn <this> --input "{}"',
    });
  }
}
