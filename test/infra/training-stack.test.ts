import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FoundationStack } from '../../lib/foundation-stack.js';
import { TrainingStack, type TrainingStackProps } from '../../lib/training-stack.js';
import { awsSolutionsFindings } from '../support/nag.js';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function synth(props: Partial<TrainingStackProps> = {}) {
  const app = new App();
  const foundation = new FoundationStack(app, 'Foundation', { stage: 'test', env: { region: 'eu-west-1' } });
  const stack = new TrainingStack(app, 'Training', {
    stage: 'test',
    env: { region: 'eu-west-1' },
    artifacts: foundation.artifacts.bucket,
    secrets: foundation.secrets,
    alerts: foundation.alerts.topic,
    ...props,
  });
  return { stack, template: Template.fromStack(stack) };
}

function statements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

describe('TrainingStack', () => {
  const { stack, template } = synth();

  it('creates the model package group the workflow registers into', () => {
    template.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', {
      ModelPackageGroupName: 'llm-twin-test',
    });
  });

  it('configures the jobs: the Hugging Face training image for the region, one A10G, on-demand by default', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TRAINING_INSTANCE_TYPE: 'ml.g5.2xlarge',
          TRAINING_VOLUME_GB: '100',
          TRAINING_MAX_RUNTIME_SECONDS: '21600',
          TRAINING_SPOT: 'false',
          MODEL_PACKAGE_GROUP: 'llm-twin-test',
          TRAINING_CODE_S3_URI: Match.anyValue(),
          HF_TOKEN_SECRET_ARN: Match.anyValue(),
        }),
      },
    });
    // The image URIs end in the region's URL suffix, a token; the account comes from the region's facts.
    const functions = JSON.stringify(template.findResources('AWS::Lambda::Function'));
    expect(functions).toContain(
      '763104351884.dkr.ecr.eu-west-1.",{"Ref":"AWS::URLSuffix"},"/huggingface-pytorch-training:2.9.0-transformers5.3.0-gpu-py312-cu130-ubuntu22.04',
    );
    expect(functions).toMatch(/huggingface-pytorch-tgi-inference:[^"]*tgi3/u);
  });

  it('can train on managed spot capacity, waiting up to twice the runtime', () => {
    const { template: spot } = synth({ spot: true, instanceType: 'ml.g5.12xlarge' });
    spot.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TRAINING_SPOT: 'true',
          TRAINING_INSTANCE_TYPE: 'ml.g5.12xlarge',
          TRAINING_MAX_WAIT_SECONDS: '43200',
        }),
      },
    });
  });

  it('runs statemachines/training.asl.json with SageMaker .sync jobs, passing only the job role', () => {
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as {
      Properties: { DefinitionString: unknown };
    }[];
    const definition = JSON.stringify(machine?.Properties.DefinitionString);
    expect(definition).toContain('arn:aws:states:::sagemaker:createTrainingJob.sync');
    expect(definition).toContain('NotifyFailure');
    const passRole = statements(template).find((statement) => statement.Action === 'iam:PassRole');
    expect(passRole?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
    });
    const createJob = statements(template).find((statement) =>
      JSON.stringify(statement.Action).includes('CreateTrainingJob'),
    );
    expect(JSON.stringify(createJob?.Resource)).toContain(':training-job/twin-*');
  });

  it('never grants wildcard actions, and only named actions on "*"', () => {
    for (const statement of statements(template)) {
      const actions = [statement.Action].flat();
      expect(actions).not.toContain('*');
      for (const action of actions) expect(action).not.toMatch(/^[a-z0-9-]+:\*$/u);
      if (statement.Resource === '*') {
        for (const action of actions) expect(action).not.toContain('*');
      }
    }
  });

  it('lets the jobs pull only the training image repository and write only their prefixes', () => {
    const all = JSON.stringify(statements(template));
    expect(all).toContain('repository/huggingface-pytorch-training');
    for (const prefix of ['models/*', 'checkpoints/*', 'evaluations/*', 'training-code/*', 'datasets/*']) {
      expect(all).toContain(prefix);
    }
  });

  it('passes the AWS Solutions checks', () => {
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });
});
