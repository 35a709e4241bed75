import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { TrainingPipeline, type TrainingJobSettings } from './constructs/training-pipeline.js';
import type { TwinSecrets } from './constructs/twin-secrets.js';
import { tagTwinResources } from './constructs/tags.js';

export interface TrainingStackProps extends StackProps, TrainingJobSettings {
  readonly stage: string;
  readonly artifacts: s3.IBucket;
  readonly secrets: TwinSecrets;
  readonly alerts: sns.ITopic;
}

/** Fine-tuning and evaluation on SageMaker, the model registry, and the workflow that gates models. */
export class TrainingStack extends Stack {
  readonly pipeline: TrainingPipeline;

  constructor(scope: Construct, id: string, props: TrainingStackProps) {
    super(scope, id, props);
    tagTwinResources(this, props.stage);
    this.pipeline = new TrainingPipeline(this, 'Training', props);
    new CfnOutput(this, 'TrainingWorkflowArn', {
      value: this.pipeline.stateMachine.stateMachineArn,
      description: 'Start with: aws stepfunctions start-execution --state-machine-arn <this> --input "{}"',
    });
    new CfnOutput(this, 'ModelPackageGroupName', { value: this.pipeline.modelPackageGroupName });
  }
}
