import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: props.comment,
      // Inlined (not an S3 asset) so the template and `cdk diff` show the workflow itself.
      definitionBody: sfn.DefinitionBody.fromString(
        readFileSync(join(STATE_MACHINES, props.definitionFile), 'utf8'),
      ),
      definitionSubstitutions: props.substitutions,
      timeout: props.timeout,
      tracingEnabled: true,
      logs: {
        destination: logGroup,
        level: sfn.LogLevel.ALL,
        includeExecutionData: this.node.tryGetContext(LOG_EXECUTION_DATA_CONTEXT) === true,
      },
    });
    for (const fn of props.invokes) fn.grantInvoke(this.stateMachine);

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
}
