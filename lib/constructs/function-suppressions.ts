import type { IConstruct } from 'constructs';
import { NagSuppressions, type NagPackSuppression } from 'cdk-nag';

/**
 * The cdk-nag findings every function of ours raises, with why they are acceptable, plus any
 * function-specific ones. Applied to the function and its role (children included).
 */
export function suppressFunctionBaseline(fn: IConstruct, extra: NagPackSuppression[] = []): void {
  NagSuppressions.addResourceSuppressions(
    fn,
    [
      {
        id: 'AwsSolutions-IAM4',
        reason: 'AWSLambdaBasicExecutionRole only allows writing this function’s own CloudWatch logs.',
        appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'X-Ray segment uploads (PutTraceSegments, PutTelemetryRecords) have no resource-level permissions.',
        appliesTo: ['Resource::*'],
      },
      ...extra,
    ],
    true,
  );
}
