import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOG_EXECUTION_DATA_CONTEXT } from '../../lib/constructs/workflow.js';
import { FeatureStack } from '../../lib/feature-stack.js';
import { FoundationStack } from '../../lib/foundation-stack.js';
import { awsSolutionsFindings } from '../support/nag.js';

interface Resource {
  Properties?: Record<string, unknown>;
}

describe('FeatureStack', () => {
  let stack: FeatureStack;
  let template: Template;

  beforeAll(() => {
    const app = new App();
    const foundation = new FoundationStack(app, 'Foundation', { stage: 'test' });
    stack = new FeatureStack(app, 'Features', {
      stage: 'test',
      secrets: foundation.secrets,
      artifacts: foundation.artifacts.bucket,
    });
    template = Template.fromStack(stack);
  });

  it('runs the features function from an arm64 container image with the model baked in', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      Architectures: ['arm64'],
      MemorySize: 3008,
      Timeout: 900,
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: Match.objectLike({
          TWIN_WAREHOUSE: 'mongodb',
          TWIN_VECTOR_STORE: 'qdrant',
          TWIN_EMBEDDING_MODEL_ID: 'sentence-transformers/all-MiniLM-L6-v2',
          MONGODB_URI_SECRET_ARN: Match.anyValue(),
          QDRANT_URL_SECRET_ARN: Match.anyValue(),
          QDRANT_API_KEY_SECRET_ARN: Match.anyValue(),
        }),
      },
    });
  });

  it('gives the function secret ARNs only, never secret values, and reads only its three secrets', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
    const variables = JSON.stringify(functions.map((fn) => fn.Properties?.Environment));
    expect(variables).not.toMatch(/MONGODB_URI"|QDRANT_URL"|QDRANT_API_KEY"/u);
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    for (const secret of ['MONGODBURI', 'QDRANTURL', 'QDRANTAPIKEY']) expect(policies).toContain(secret);
    expect(policies).not.toMatch(/OPENAI|LINKEDIN|HFTOKEN/iu);
  });

  it('runs the workflow from statemachines/features.asl.json with the function substituted in', () => {
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as Resource[];
    const definition = JSON.stringify(machine?.Properties?.DefinitionString ?? null);
    expect(definition).toContain('PlanBatches');
    expect(definition).toMatch(/MaxConcurrency\\": 4/u);
    expect(machine?.Properties).toMatchObject({
      DefinitionSubstitutions: {
        FeaturesFunctionArn: { 'Fn::GetAtt': [expect.stringMatching(/FeaturesFunction/u), 'Arn'] },
      },
      TracingConfiguration: { Enabled: true },
      // Without the stage's say-so, the logs show states and errors but not the data passing through.
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
  });

  it('logs the data passing through the workflow when the stage config turns it on (dev)', () => {
    const app = new App({ context: { [LOG_EXECUTION_DATA_CONTEXT]: true } });
    const foundation = new FoundationStack(app, 'Foundation', { stage: 'dev' });
    const dev = Template.fromStack(
      new FeatureStack(app, 'Features', {
        stage: 'dev',
        secrets: foundation.secrets,
        artifacts: foundation.artifacts.bucket,
      }),
    );
    dev.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
  });

  it('lets the workflow invoke the features function and nothing else', () => {
    const policies = (Object.values(template.findResources('AWS::IAM::Policy')) as Resource[]).filter(
      (policy) => JSON.stringify(policy).includes('lambda:InvokeFunction'),
    );
    expect(policies).toHaveLength(1);
    const statements = (policies[0]?.Properties?.PolicyDocument as { Statement: { Action: unknown }[] })
      .Statement;
    const actions = statements.flatMap((statement) => statement.Action);
    expect(actions).toContain('lambda:InvokeFunction');
    expect(actions).not.toContain('lambda:*');
  });

  it('grants X-Ray its wildcard in a policy of its own, so the function role keeps no wildcard', () => {
    const functionPolicies = (Object.values(template.findResources('AWS::IAM::Policy')) as Resource[]).filter(
      (policy) => /FeaturesFunctionServiceRole/u.test(JSON.stringify(policy.Properties?.Roles)),
    );
    const withWildcard = functionPolicies.filter((policy) =>
      JSON.stringify(policy).includes('"Resource":"*"'),
    );
    expect(withWildcard.map((policy) => policy.Properties?.PolicyDocument)).toEqual([
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
        ],
      },
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
  });

  it('reports a wildcard deliberately added to the function role: no blanket suppression hides it', () => {
    const app = new App();
    const foundation = new FoundationStack(app, 'Foundation', { stage: 'test' });
    const careless = new FeatureStack(app, 'Features', {
      stage: 'test',
      secrets: foundation.secrets,
      artifacts: foundation.artifacts.bucket,
    });
    careless.pipeline.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }),
    );
    expect(awsSolutionsFindings(careless)).toEqual([
      expect.stringMatching(
        /^\/Features\/FeaturePipeline\/Features\/Function\/ServiceRole\/DefaultPolicy\/Resource: .*AwsSolutions-IAM5\[Resource::\*\]/u,
      ),
    ]);
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });
});
