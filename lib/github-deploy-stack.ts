import { Arn, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';

export interface GitHubDeployStackProps extends StackProps {
  /** `owner/name` of the GitHub repository whose workflows deploy. */
  readonly repository: string;
  /** An existing GitHub OIDC provider of the account (there can be only one); created when absent. */
  readonly oidcProviderArn?: string;
  /** The CDK bootstrap qualifier. Default hnb659fds. */
  readonly bootstrapQualifier?: string;
}

const GITHUB_OIDC = 'token.actions.githubusercontent.com';

/**
 * What lets .github/workflows/deploy.yml deploy without stored keys: GitHub's OIDC provider and a role
 * that only main and the dev/prod environments of one repository can assume, allowed nothing but to
 * assume the CDK bootstrap roles (which `cdk deploy` uses for everything else).
 */
export class GitHubDeployStack extends Stack {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GitHubDeployStackProps) {
    super(scope, id, props);
    const providerArn =
      props.oidcProviderArn ??
      new iam.OidcProviderNative(this, 'GitHubOidc', {
        url: `https://${GITHUB_OIDC}`,
        clientIds: ['sts.amazonaws.com'],
      }).oidcProviderArn;
    const repo = `repo:${props.repository}`;
    this.role = new iam.Role(this, 'DeployRole', {
      description: `cdk deploy from GitHub Actions of ${props.repository}`,
      maxSessionDuration: Duration.hours(2),
      assumedBy: new iam.WebIdentityPrincipal(providerArn, {
        StringEquals: { [`${GITHUB_OIDC}:aud`]: 'sts.amazonaws.com' },
        StringLike: {
          [`${GITHUB_OIDC}:sub`]: [
            `${repo}:ref:refs/heads/main`,
            `${repo}:environment:dev`,
            `${repo}:environment:prod`,
          ],
        },
      }),
    });
    const qualifier = props.bootstrapQualifier ?? 'hnb659fds';
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: [
          Arn.format(
            { service: 'iam', region: '', resource: 'role', resourceName: `cdk-${qualifier}-*` },
            this,
          ),
        ],
      }),
    );
    NagSuppressions.addResourceSuppressions(
      this.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'The role may only assume the CDK bootstrap roles of this account (deploy, file and image publishing, lookup), named cdk-<qualifier>-*-role-<account>-<region>.',
          appliesTo: [
            { regex: '/^Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role\\/cdk-.*-\\*$/' },
          ],
        },
      ],
      true,
    );
    new CfnOutput(this, 'DeployRoleArn', {
      value: this.role.roleArn,
      description: 'Set it as the AWS_DEPLOY_ROLE_ARN variable of the GitHub repository',
    });
  }
}
