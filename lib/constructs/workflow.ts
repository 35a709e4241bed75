import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKFLOW_ITEMS_PREFIX } from '../../lambdas/workflows/distributed-map.js';
import { bucketPrefixSuppression } from './function-suppressions.js';

const STATE_MACHINES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'statemachines');

/**
 * CDK context key (set by bin/app.ts from the stage config): `true` makes workflow logs carry each
 * state's input and output. Anything else, or nothing, keeps the data out of the logs.
 */
export const LOG_EXECUTION_DATA_CONTEXT = 'twin:logExecutionData';

export interface WorkflowProps {
  /** A file of statemachines/, e.g. `etl.asl.json`. */
  readonly definitionFile: string;
  readonly comment: string;
  /** Values for the file's ${...} placeholders. */
  readonly substitutions: Record<string, string>;
  /** Functions the workflow invokes (CDK cannot infer them from a file). */
  readonly invokes: readonly lambda.IFunction[];
  readonly timeout: Duration;
  /**
   * The bucket the file's Distributed Maps read their item files from and write their results to
   * (`${ArtifactBucket}` in the file), under workflow-runs/. Required when the file has one.
   */
  readonly mapBucket?: s3.IBucket;
  /** MaxConcurrency of Map states by name, in place of the file's (the stage config's setting). */
  readonly mapConcurrency?: Readonly<Record<string, number>>;
}

interface MapState {
  Type: string;
  MaxConcurrency?: number;
  ItemProcessor?: { ProcessorConfig?: { Mode?: string } };
}

/** The file's top-level states, with each named Map's MaxConcurrency replaced. */
function definitionWithConcurrency(
  file: string,
  concurrency: Readonly<Record<string, number>>,
): { text: string; distributed: boolean } {
  const definition = JSON.parse(readFileSync(join(STATE_MACHINES, file), 'utf8')) as {
    States: Record<string, MapState>;
  };
  for (const [name, limit] of Object.entries(concurrency)) {
    const state = definition.States[name];
    if (state?.Type !== 'Map') throw new Error(`${file} has no Map state ${name} to set the concurrency of`);
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`${file}: ${name} concurrency must be a whole number >= 1`);
    state.MaxConcurrency = limit;
  }
  const distributed = Object.values(definition.States).some(
    (state) => state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED',
  );
  return { text: JSON.stringify(definition, null, 2), distributed };
}

/**
 * A Step Functions workflow defined by an Amazon States Language file of statemachines/ (the same
 * file the tests run locally), with every state transition logged (the data passing through only when
 * the stage says so), X-Ray tracing, and permission to invoke exactly its functions.
 */
export class Workflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const { text, distributed } = definitionWithConcurrency(props.definitionFile, props.mapConcurrency ?? {});
    if (distributed && !props.mapBucket) {
      throw new Error(`${props.definitionFile} has a Distributed Map: give the workflow its mapBucket`);
    }
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: props.comment,
      // Inlined (not an S3 asset) so the template and `cdk diff` show the workflow itself.
      definitionBody: sfn.DefinitionBody.fromString(text),
      definitionSubstitutions: {
        ...props.substitutions,
        ...(props.mapBucket ? { ArtifactBucket: props.mapBucket.bucketName } : {}),
      },
      timeout: props.timeout,
      tracingEnabled: true,
      logs: {
        destination: logGroup,
        level: sfn.LogLevel.ALL,
        includeExecutionData: this.node.tryGetContext(LOG_EXECUTION_DATA_CONTEXT) === true,
      },
    });
    for (const fn of props.invokes) fn.grantInvoke(this.stateMachine);
    if (distributed && props.mapBucket) this.allowDistributedMaps(props.mapBucket);

    NagSuppressions.addResourceSuppressions(
      this.stateMachine,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Invoking a function by any version or alias (<arn>:*) is how Step Functions calls a function; ' +
            'CloudWatch Logs delivery and X-Ray APIs have no resource-level permissions.',
          appliesTo: [{ regex: '/^Resource::<.*Function.*\\.Arn>:\\*$/' }, 'Resource::*'],
        },
      ],
      true,
    );
  }

  /**
   * A Distributed Map starts child executions of its own state machine, then reads the item file and
   * writes the results. The execution rights go in a policy of their own: in the role's default policy
   * they would reference the state machine that depends on that policy, a cycle.
   */
  private allowDistributedMaps(bucket: s3.IBucket): void {
    const runs = `${WORKFLOW_ITEMS_PREFIX}*`;
    bucket.grantRead(this.stateMachine, runs);
    bucket.grantPut(this.stateMachine, runs);
    const children = new iam.Policy(this, 'DistributedMapPolicy');
    this.stateMachine.role.attachInlinePolicy(children);
    this.stateMachine.grantStartExecution(children);
    this.stateMachine.grantExecution(children, 'states:DescribeExecution', 'states:StopExecution');
    NagSuppressions.addResourceSuppressions(
      [this.stateMachine, children],
      [
        bucketPrefixSuppression(
          WORKFLOW_ITEMS_PREFIX,
          'A Distributed Map reads its item files and writes its results under workflow-runs/ only (keys named per execution and Map Run).',
        ),
        {
          id: 'AwsSolutions-IAM5',
          reason:
            "A Distributed Map watches and stops its own child executions, whose names it picks: this state machine's executions, <name>:*.",
          appliesTo: [{ regex: '/^Resource::arn:<AWS::Partition>:states:.*:execution:.*:\\*$/' }],
        },
      ],
      true,
    );
  }
}
