import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { AuthorConfig } from '../../lambdas/collection/author-config.js';
import { EXPORT_UPLOADS_PREFIX } from '../../lambdas/ports/export-uploads.js';
import { ContainerFunction } from './container-function.js';
import { WORKFLOW_ITEMS_PREFIX } from '../../lambdas/workflows/distributed-map.js';
import { bucketPrefixSuppression, suppressFunctionBaseline } from './function-suppressions.js';
import type { TwinSecrets } from './twin-secrets.js';
import { Workflow } from './workflow.js';

const ETL_RUNS = `${WORKFLOW_ITEMS_PREFIX}etl/`;
const CRAWL_SECRETS = ['MONGODB_URI', 'LINKEDIN_USERNAME', 'LINKEDIN_PASSWORD'] as const;

export interface CollectionPipelineProps {
  readonly secrets: TwinSecrets;
  /** The feature workflow, started when a collection stored something new. */
  readonly featureWorkflow: sfn.IStateMachine;
  /** Where uploaded exports wait (exports/); the function reads and then removes them. */
  readonly artifacts: s3.IBucket;
  /** One scheduled collection per author config. */
  readonly authors: readonly { name: string; config: AuthorConfig }[];
  /** When the scheduled collections run; undefined disables them. */
  readonly schedule?: events.Schedule;
  /** Links crawled at once per run (the stage config's workflows.concurrency.etl). */
  readonly concurrency?: number;
}

/**
 * Data collection on AWS: the crawl function (headless Chromium from @sparticuz/chromium, git), the
 * ETL workflow of statemachines/etl.asl.json, and a schedule that runs it for every author config.
 */
export class CollectionPipeline extends Construct {
  readonly function: ContainerFunction['function'];
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: CollectionPipelineProps) {
    super(scope, id);
    this.function = new ContainerFunction(this, 'Crawl', {
      handlerName: 'crawl',
      description:
        'ETL: crawls one link (article, Medium story, LinkedIn feed, repository) into the warehouse',
      systemPackages: ['git'],
      // @sparticuz/chromium ships its Chromium for x86-64 only (README, "Deploying to AWS").
      architecture: lambda.Architecture.X86_64,
      // Chromium wants memory; one link per invocation stays well inside five minutes.
      memorySize: 2048,
      timeout: Duration.minutes(5),
      environment: {
        TWIN_WAREHOUSE: 'mongodb',
        ARTIFACT_BUCKET: props.artifacts.bucketName,
        ...props.secrets.environmentFor(CRAWL_SECRETS),
      },
    }).function;
    props.secrets.grantRead(this.function, CRAWL_SECRETS);
    props.artifacts.grantRead(this.function, `${EXPORT_UPLOADS_PREFIX}*`);
    props.artifacts.grantDelete(this.function, `${EXPORT_UPLOADS_PREFIX}*`);
    // `start` writes the links' item file, `summarize` reads the Map's results.
    props.artifacts.grantReadWrite(this.function, `${ETL_RUNS}*`);
    suppressFunctionBaseline(this.function, [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'Uploaded exports only: read and delete objects under exports/ (keys are exports/<uuid>.zip).',
        appliesTo: [
          'Action::s3:GetBucket*',
          'Action::s3:GetObject*',
          'Action::s3:List*',
          'Action::s3:DeleteObject*',
          { regex: '/^Resource::.*\\/exports\\/\\*$/' },
        ],
      },
      bucketPrefixSuppression(
        ETL_RUNS,
        'Writes the links item file and reads the Map results of its own workflow, under workflow-runs/etl/ only.',
      ),
    ]);

    this.stateMachine = new Workflow(this, 'Workflow', {
      definitionFile: 'etl.asl.json',
      comment: 'ETL: author links -> warehouse, then the feature pipeline',
      substitutions: {
        CrawlFunctionArn: this.function.functionArn,
        FeatureWorkflowArn: props.featureWorkflow.stateMachineArn,
      },
      invokes: [this.function],
      timeout: Duration.hours(3),
      mapBucket: props.artifacts,
      ...(props.concurrency ? { mapConcurrency: { CrawlLinks: props.concurrency } } : {}),
    }).stateMachine;
    props.featureWorkflow.grantStartExecution(this.stateMachine);

    if (props.schedule) {
      for (const { name, config } of props.authors) {
        new events.Rule(this, `Schedule-${name}`, {
          description: `Collects ${config.author}'s links (configs/authors/${name}.yaml)`,
          schedule: props.schedule,
          targets: [
            new targets.SfnStateMachine(this.stateMachine, {
              input: events.RuleTargetInput.fromObject(config),
            }),
          ],
        });
      }
    }
  }
}
