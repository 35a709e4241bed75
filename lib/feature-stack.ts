import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
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
}

/** The feature pipeline: warehouse documents into the cleaned and embedded snapshots of the feature store. */
export class FeatureStack extends Stack {
  readonly pipeline: FeaturePipeline;

  constructor(scope: Construct, id: string, props: FeatureStackProps) {
    super(scope, id, props);
    tagTwinResources(this, props.stage);
    this.pipeline = new FeaturePipeline(this, 'FeaturePipeline', {
      secrets: props.secrets,
      ...(props.embeddingModelId ? { embeddingModelId: props.embeddingModelId } : {}),
    });
    new CfnOutput(this, 'FeatureWorkflowArn', {
      value: this.pipeline.stateMachine.stateMachineArn,
      description: 'Start with: aws stepfunctions start-execution --state-machine-arn <this> --input "{}"',
    });
  }
}
