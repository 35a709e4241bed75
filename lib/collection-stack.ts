import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { AuthorConfig } from '../lambdas/collection/author-config.js';
import { CollectionPipeline } from './constructs/collection-pipeline.js';
import type { TwinSecrets } from './constructs/twin-secrets.js';
import { tagTwinResources } from './constructs/tags.js';

export interface CollectionStackProps extends StackProps {
  readonly stage: string;
  readonly secrets: TwinSecrets;
  readonly featureWorkflow: sfn.IStateMachine;
  /** The artifact bucket, where the web app uploads platform exports for the workflow to import. */
  readonly artifacts: s3.IBucket;
  readonly authors: readonly { name: string; config: AuthorConfig }[];
  readonly schedule?: events.Schedule;
  /** Links crawled at once per run (stage config workflows.concurrency.etl). */
  readonly concurrency?: number;
}

/** Data collection: the crawl function, the ETL workflow and its weekly schedule per author. */
export class CollectionStack extends Stack {
  readonly pipeline: CollectionPipeline;

  constructor(scope: Construct, id: string, props: CollectionStackProps) {
    super(scope, id, props);
    tagTwinResources(this, props.stage);
    this.pipeline = new CollectionPipeline(this, 'Collection', {
      secrets: props.secrets,
      featureWorkflow: props.featureWorkflow,
      artifacts: props.artifacts,
      authors: props.authors,
      ...(props.schedule ? { schedule: props.schedule } : {}),
      ...(props.concurrency ? { concurrency: props.concurrency } : {}),
    });
    new CfnOutput(this, 'EtlWorkflowArn', {
      value: this.pipeline.stateMachine.stateMachineArn,
      description:
        'Start with: aws stepfunctions start-execution --state-machine-arn <this> --input file://author.json',
    });
  }
}
