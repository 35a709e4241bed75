import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';

export interface UnscopedActionsProps {
  /** Actions IAM offers no resource-level permissions for: they can only be granted on `*`. */
  readonly actions: readonly string[];
  /** Why the role needs them; becomes the cdk-nag suppression's reason. */
  readonly reason: string;
  readonly conditions?: Record<string, unknown>;
}

/**
 * Grants actions that only work on `Resource: *` in a policy of their own, and suppresses cdk-nag's
 * IAM5 wildcard finding on that policy alone. Every other statement on the role stays under the
 * check, so a wildcard added to it later is reported instead of passing under a blanket suppression.
 */
export function grantUnscopedActions(
  scope: Construct,
  id: string,
  role: iam.IRole | undefined,
  props: UnscopedActionsProps,
): iam.Policy {
  if (!role) throw new Error(`${scope.node.path}/${id}: granting ${props.actions.join(', ')} needs a role`);
  const policy = new iam.Policy(scope, id, {
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        actions: [...props.actions],
        resources: ['*'],
        ...(props.conditions ? { conditions: props.conditions } : {}),
      }),
    ],
  });
  NagSuppressions.addResourceSuppressions(policy, [
    { id: 'AwsSolutions-IAM5', reason: props.reason, appliesTo: ['Resource::*'] },
  ]);
  return policy;
}

/**
 * Turns on X-Ray active tracing for a function, with the trace-upload permission granted through
 * grantUnscopedActions (CDK's own `tracing` option would put the `*` into the role's main policy).
 * The policy is created beside the function, in the construct that wraps it.
 */
export function traceWithXRay(wrapper: Construct, fn: lambda.Function): void {
  const cfnFunction = fn.node.defaultChild as lambda.CfnFunction;
  cfnFunction.tracingConfig = { mode: 'Active' };
  const policy = grantUnscopedActions(wrapper, 'XRayWrite', fn.role, {
    actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
    reason: 'X-Ray trace uploads (PutTraceSegments, PutTelemetryRecords) have no resource-level permissions.',
  });
  // Traces from the very first invocation need the permission in place (the function resource only:
  // its role is a child of the function construct, and the policy needs the role).
  cfnFunction.node.addDependency(policy);
}
