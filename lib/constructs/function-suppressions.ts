import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { NagSuppressions, type NagPackSuppression } from 'cdk-nag';
import { S3_PREFIX_GRANT_ACTIONS } from './sagemaker-access.js';

/**
 * The cdk-nag findings every function of ours raises, with why they are acceptable, plus any
 * function-specific ones (each IAM5 one naming the exact resources it accepts). Applied to the function
 * and its role (children included). No blanket `Resource::*`: actions that need it are granted apart,
 * by grantUnscopedActions.
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
      ...extra,
    ],
    true,
  );
}

/**
 * The findings of CDK's BucketDeployment (its handler is a singleton at the stack's root, not a child
 * of the deployment), with `copyReason` saying what the handler may write and why.
 */
export function suppressBucketDeployment(deployment: IConstruct, copyReason: string): void {
  const handler = Stack.of(deployment).node.children.find((child) =>
    child.node.id.startsWith('Custom::CDKBucketDeployment'),
  );
  NagSuppressions.addResourceSuppressions(
    [deployment, ...(handler ? [handler] : [])],
    [
      {
        id: 'AwsSolutions-IAM4',
        reason: 'CDK’s BucketDeployment handler uses the basic execution role to write its logs.',
      },
      { id: 'AwsSolutions-IAM5', reason: copyReason },
      { id: 'AwsSolutions-L1', reason: 'CDK’s BucketDeployment chooses its own Lambda runtime.' },
    ],
    true,
  );
}

/**
 * The IAM5 finding of a bucket grant scoped to one prefix (grantRead/grantPut/grantReadWrite with a key
 * pattern): the object actions' wildcards, and the keys under that prefix only.
 */
export function bucketPrefixSuppression(prefix: string, reason: string): NagPackSuppression {
  const keys = prefix.replace(/\//gu, '\\/');
  return {
    id: 'AwsSolutions-IAM5',
    reason,
    // Whatever the bucket ARN renders as (<...Bucket....Arn>, an import, a name): only keys under the prefix.
    appliesTo: [...S3_PREFIX_GRANT_ACTIONS, { regex: `/^Resource::.*\\/${keys}\\*$/` }],
  };
}
