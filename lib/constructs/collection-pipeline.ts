import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthorConfig } from '../../lambdas/collection/author-config.js';
import { ContainerFunction } from './container-function.js';
import { suppressFunctionBaseline } from './function-suppressions.js';
import type { TwinSecrets } from './twin-secrets.js';

const STATE_MACHINES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'statemachines');
const CRAWL_SECRETS = ['MONGODB_URI', 'LINKEDIN_USERNAME', 'LINKEDIN_PASSWORD'] as const;

export interface CollectionPipelineProps {
  readonly secrets: TwinSecrets;
  /** The feature workflow, started when a collection stored something new. */
  readonly featureWorkflow: sfn.IStateMachine;
  /** One scheduled collection per author config. */
  readonly authors: readonly { name: string; config: AuthorConfig }[];
  /** When the scheduled collections run; undefined disables them. */
  readonly schedule?: events.Schedule;
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
      // Chromium wants memory; one link per invocation stays well inside five minutes.
      memorySize: 2048,
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: 8,
      environment: { TWIN_WAREHOUSE: 'mongodb', ...props.secrets.environmentFor(CRAWL_SECRETS) },
    }).function;
    props.secrets.grantRead(this.function, CRAWL_SECRETS);
    suppressFunctionBaseline(this.function);

    const logGroup = new logs.LogGroup(this, 'WorkflowLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Workflow', {
      comment: 'ETL: author links -> warehouse, then the feature pipeline',
      // Inlined (not an S3 asset) so the template and `cdk diff` show the workflow itself.
      definitionBody: sfn.DefinitionBody.fromString(
        readFileSync(join(STATE_MACHINES, 'etl.asl.json'), 'utf8'),
      ),
      definitionSubstitutions: {
        CrawlFunctionArn: this.function.functionArn,
        FeatureWorkflowArn: props.featureWorkflow.stateMachineArn,
      },
      timeout: Duration.hours(3),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    this.function.grantInvoke(this.stateMachine);
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

    NagSuppressions.addResourceSuppressions(
      this.stateMachine,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Invoking the crawl function by any version or alias (<arn>:*) is how Step Functions calls a ' +
            'function; CloudWatch Logs delivery and X-Ray APIs have no resource-level permissions.',
          appliesTo: [{ regex: '/^Resource::<.*Crawl.*\\.Arn>:\\*$/' }, 'Resource::*'],
        },
      ],
      true,
    );
  }
}
