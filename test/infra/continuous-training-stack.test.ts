import { App, Stack } from 'aws-cdk-lib';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { ContinuousTrainingStack } from '../../lib/continuous-training-stack.js';
import { awsSolutionsFindings } from '../support/nag.js';

describe('ContinuousTrainingStack', () => {
  const app = new App();
  const others = new Stack(app, 'Others', { env: { region: 'eu-west-1', account: '123456789012' } });
  const machine = (name: string) =>
    sfn.StateMachine.fromStateMachineName(others, name, `llm-twin-test-${name}`);
  const stack = new ContinuousTrainingStack(app, 'ContinuousTraining', {
    env: { region: 'eu-west-1', account: '123456789012' },
    stage: 'test',
    alerts: sns.Topic.fromTopicArn(others, 'Alerts', 'arn:aws:sns:eu-west-1:123456789012:alerts'),
    artifacts: s3.Bucket.fromBucketName(others, 'Artifacts', 'twin-artifacts'),
    workflows: {
      etl: machine('etl'),
      features: machine('features'),
      datasets: machine('datasets'),
      training: machine('training'),
    },
    schedule: Schedule.expression('cron(0 3 ? * MON *)'),
  });
  const template = Template.fromStack(stack);

  it('runs weekly over every author config, read at run time: the rule carries no links', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 3 ? * MON *)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ configuredAuthors: true }) })],
    });
  });

  it('may start and follow exactly the nested workflows, and skips deployment without an endpoint', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    for (const name of ['etl', 'features', 'datasets', 'training']) {
      expect(policies).toContain(`stateMachine:llm-twin-test-${name}`);
    }
    expect(policies).toContain('StepFunctionsGetEventsForStepFunctionsExecutionRule');
    const [workflow] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as {
      Properties: { DefinitionSubstitutions: Record<string, unknown> };
    }[];
    expect(workflow?.Properties.DefinitionSubstitutions.DeploymentWorkflowArn).toBe('none');
  });

  it('starts by reading the saved link lists, and may touch nothing else of the bucket but its Map items and results', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ARTIFACT_BUCKET: 'twin-artifacts' }) },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyDocument: { Statement: { Action: string[] | string; Resource: unknown }[] } };
    }[];
    const s3Statements = policies
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('s3:')));
    const byPrefix = (prefix: string) =>
      s3Statements.filter((statement) => JSON.stringify(statement.Resource).includes(prefix));
    const savedLists = byPrefix('/author-configs/*');
    expect(savedLists).toHaveLength(1);
    expect([savedLists[0]?.Action].flat()).not.toContain('s3:PutObject');
    // The rest: the authors' item file and the Map's results, under workflow-runs/ only.
    expect(byPrefix('/workflow-runs/')).toHaveLength(s3Statements.length - 1);
    const [workflow] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as {
      Properties: { DefinitionSubstitutions: Record<string, unknown> };
    }[];
    expect(JSON.stringify(workflow?.Properties.DefinitionSubstitutions.AuthorsFunctionArn)).toContain(
      'Authors',
    );
  });

  it('passes the AWS Solutions checks', () => {
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });
});
