import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { FactName } from 'aws-cdk-lib/region-info';
import type { Construct } from 'constructs';
import { grantUnscopedActions } from './unscoped-actions.js';

/** A Hugging Face Deep Learning Container image URI in the stack's region. */
export function dlcImage(scope: Construct, repository: string, tag: string): string {
  const stack = Stack.of(scope);
  return `${dlcAccount(scope)}.dkr.ecr.${stack.region}.${stack.urlSuffix}/${repository}:${tag}`;
}

function dlcAccount(scope: Construct): string {
  return Stack.of(scope).regionalFact(FactName.DLC_REPOSITORY_ACCOUNT);
}

/**
 * A role for SageMaker jobs or endpoints running a Deep Learning Container: pull that one image
 * repository, write logs under `/aws/sagemaker/<logs>`, and metrics in SageMaker's namespaces only.
 */
export function sageMakerRole(
  scope: Construct,
  id: string,
  props: { description: string; repository: string; logs: 'TrainingJobs' | 'Endpoints' },
): iam.Role {
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
    description: props.description,
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      resources: [
        Arn.format(
          {
            service: 'ecr',
            account: dlcAccount(scope),
            resource: 'repository',
            resourceName: props.repository,
          },
          stack,
        ),
      ],
    }),
  );
  // Children of the role, so whatever depends on the role (a model, an endpoint) waits for them too.
  grantUnscopedActions(role, 'EcrLogin', role, {
    actions: ['ecr:GetAuthorizationToken'],
    reason: 'ecr:GetAuthorizationToken has no resource-level permission (the pull itself is scoped).',
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'logs:DescribeLogStreams',
      ],
      resources: [
        Arn.format(
          {
            service: 'logs',
            resource: 'log-group',
            resourceName: `/aws/sagemaker/${props.logs}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          },
          stack,
        ),
      ],
    }),
  );
  grantUnscopedActions(role, 'Metrics', role, {
    actions: ['cloudwatch:PutMetricData'],
    conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } },
    reason:
      'cloudwatch:PutMetricData has no resource-level permission; a condition keeps it to SageMaker namespaces.',
  });
  return role;
}

/** `.sync` tasks wait through an EventBridge rule Step Functions manages in the account. */
export function allowSyncWaiting(stateMachine: sfn.StateMachine, rule: string): void {
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      resources: [
        Arn.format({ service: 'events', resource: 'rule', resourceName: rule }, Stack.of(stateMachine)),
      ],
    }),
  );
}

/** What `bucket.grantRead`/`grantReadWrite` on a prefix grants, for cdk-nag's appliesTo lists. */
export const S3_PREFIX_GRANT_ACTIONS = [
  'Action::s3:GetBucket*',
  'Action::s3:GetObject*',
  'Action::s3:List*',
  'Action::s3:DeleteObject*',
  'Action::s3:Abort*',
];
