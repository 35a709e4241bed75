import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { GitHubDeployStack } from '../../lib/github-deploy-stack.js';
import { awsSolutionsFindings } from '../support/nag.js';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

describe('GitHubDeployStack', () => {
  const stack = new GitHubDeployStack(new App(), 'GitHubDeploy', { repository: 'ada/llm-twin' });
  const template = Template.fromStack(stack);
  const [role] = Object.values(template.findResources('AWS::IAM::Role')) as {
    Properties: { AssumeRolePolicyDocument: { Statement: Statement[] }; ManagedPolicyArns?: unknown };
  }[];

  it("trusts GitHub's OIDC tokens of this repository's main branch and deploy environments only", () => {
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    const [trust] = role?.Properties.AssumeRolePolicyDocument.Statement ?? [];
    expect(trust?.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(trust?.Condition).toEqual({
      StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
      StringLike: {
        'token.actions.githubusercontent.com:sub': [
          'repo:ada/llm-twin:ref:refs/heads/main',
          'repo:ada/llm-twin:environment:dev',
          'repo:ada/llm-twin:environment:prod',
        ],
      },
    });
  });

  it('may do nothing but assume the CDK bootstrap roles', () => {
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
    expect(statements.map((statement) => statement.Action)).toEqual(['sts:AssumeRole']);
    expect(JSON.stringify(statements[0]?.Resource)).toContain(':role/cdk-hnb659fds-*');
  });

  it('passes the AWS Solutions checks', () => {
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });
});
