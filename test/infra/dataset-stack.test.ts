import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DatasetStack } from '../../lib/dataset-stack.js';
import { FoundationStack } from '../../lib/foundation-stack.js';
import { awsSolutionsFindings } from '../support/nag.js';

interface Resource {
  Properties?: Record<string, unknown>;
}

describe('DatasetStack', () => {
  const app = new App();
  const foundation = new FoundationStack(app, 'Foundation', { stage: 'test' });
  const stack = new DatasetStack(app, 'Datasets', {
    stage: 'test',
    artifacts: foundation.artifacts.bucket,
    secrets: foundation.secrets,
    openAiBaseUrl: 'https://llm.example.com/v1',
  });
  const template = Template.fromStack(stack);

  it('runs the datasets function, unreserved (its Map bounds it), with the bucket, the compatible endpoint and secret ARNs only', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          ARTIFACT_BUCKET: Match.anyValue(),
          TWIN_VECTOR_STORE: 'qdrant',
          OPENAI_BASE_URL: 'https://llm.example.com/v1',
          OPENAI_API_KEY_SECRET_ARN: Match.anyValue(),
          QDRANT_URL_SECRET_ARN: Match.anyValue(),
          // For publishing versions to the Hugging Face Hub.
          HF_TOKEN_SECRET_ARN: Match.anyValue(),
        }),
      },
    });
  });

  it('lets the function touch only the datasets/ prefix of the bucket and its workflow items', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('/datasets/*');
    expect(policies).toContain('/workflow-runs/datasets/*');
    expect(policies).not.toMatch(/warehouse-exports|MONGODB|LINKEDIN/u);
  });

  it('runs statemachines/datasets.asl.json with at most two batches at a time, its Map items in the artifact bucket', () => {
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as Resource[];
    const definition = JSON.stringify(machine?.Properties?.DefinitionString ?? null);
    expect(definition).toContain('GenerateBatches');
    expect(definition).toMatch(/MaxConcurrency\\": 2/u);
    expect(Object.keys(machine?.Properties?.DefinitionSubstitutions ?? {}).sort()).toEqual([
      'ArtifactBucket',
      'DatasetFunctionArn',
    ]);
  });

  it('passes the cdk-nag AwsSolutions checks', () => {
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });
});
