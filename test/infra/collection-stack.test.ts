import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { describe, expect, it } from 'vitest';
import { CollectionStack } from '../../lib/collection-stack.js';
import { FeatureStack } from '../../lib/feature-stack.js';
import { FoundationStack } from '../../lib/foundation-stack.js';
import { awsSolutionsFindings } from '../support/nag.js';

interface Resource {
  Properties?: Record<string, unknown>;
}

const authors = [
  { name: 'ada-lovelace', config: { author: 'Ada Lovelace', links: ['https://example.com/notes'] } },
  { name: 'alan-turing', config: { author: 'Alan Turing', links: ['https://github.com/alan/machine'] } },
];

function build(schedule?: Schedule) {
  const app = new App();
  const foundation = new FoundationStack(app, 'Foundation', { stage: 'test' });
  const features = new FeatureStack(app, 'Features', {
    stage: 'test',
    secrets: foundation.secrets,
    artifacts: foundation.artifacts.bucket,
  });
  const stack = new CollectionStack(app, 'Collection', {
    stage: 'test',
    secrets: foundation.secrets,
    featureWorkflow: features.pipeline.stateMachine,
    artifacts: foundation.artifacts.bucket,
    authors,
    ...(schedule ? { schedule } : {}),
  });
  return { stack, template: Template.fromStack(stack) };
}

describe('CollectionStack', () => {
  const { stack, template } = build(Schedule.expression('cron(0 3 ? * MON *)'));

  it('lets the crawl function read and remove uploaded exports and the workflow keep its Map items and results, nothing else of the artifact bucket', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const s3Statements = Object.values(policies)
      .flatMap(
        (policy) =>
          (
            policy as {
              Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } };
            }
          ).Properties.PolicyDocument.Statement,
      )
      .filter((statement) => JSON.stringify(statement.Action).includes('s3:'));
    expect(s3Statements.length).toBeGreaterThan(0);
    for (const statement of s3Statements) {
      const resources = JSON.stringify(statement.Resource);
      expect(resources).toMatch(/exports\/\*|workflow-runs\/(etl\/)?\*/u);
      if (JSON.stringify(statement.Action).includes('s3:PutObject'))
        expect(resources).toMatch(/workflow-runs\//u);
    }
  });

  it('runs the crawl function from an x86_64 container image (the only CPU Chromium ships for) with git, enough memory for Chromium, and secret ARNs only', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      Architectures: ['x86_64'],
      MemorySize: 2048,
      Timeout: 300,
      Environment: {
        Variables: Match.objectLike({
          TWIN_WAREHOUSE: 'mongodb',
          MONGODB_URI_SECRET_ARN: Match.anyValue(),
          LINKEDIN_USERNAME_SECRET_ARN: Match.anyValue(),
          LINKEDIN_PASSWORD_SECRET_ARN: Match.anyValue(),
        }),
      },
    });
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).not.toMatch(/OPENAIAPIKEY|QDRANT|HFTOKEN/u);
  });

  it('wires the ETL workflow to the crawl function and lets it start the feature workflow, nothing more', () => {
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as Resource[];
    expect(JSON.stringify(machine?.Properties?.DefinitionString ?? null)).toContain('StartFeaturePipeline');
    expect(Object.keys(machine?.Properties?.DefinitionSubstitutions ?? {}).sort()).toEqual([
      'ArtifactBucket',
      'CrawlFunctionArn',
      'FeatureWorkflowArn',
    ]);
    const statements = (Object.values(template.findResources('AWS::IAM::Policy')) as Resource[]).flatMap(
      (policy) =>
        (policy.Properties?.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement,
    );
    const startExecution = statements.filter((statement) =>
      [statement.Action].flat().includes('states:StartExecution'),
    );
    expect(startExecution.length).toBeGreaterThan(0);
    expect(JSON.stringify(startExecution)).toMatch(/FeaturePipelineWorkflow|ImportValue/u);
  });

  it('schedules one weekly collection per author config, with the config as input', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Resource[];
    expect(rules).toHaveLength(2);
    for (const rule of rules) expect(rule.Properties?.ScheduleExpression).toBe('cron(0 3 ? * MON *)');
    const inputs = rules.map(
      (rule) => JSON.parse((rule.Properties?.Targets as { Input: string }[])[0]?.Input ?? '{}') as unknown,
    );
    expect(inputs).toEqual(expect.arrayContaining(authors.map((author) => author.config)));
  });

  it('has no schedule when it is turned off', () => {
    build().template.resourceCountIs('AWS::Events::Rule', 0);
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });
});
