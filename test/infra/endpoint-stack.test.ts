import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TWIN_VARIANT_NAME } from '../../lambdas/deployment/plan.js';
import { EndpointStack } from '../../lib/endpoint-stack.js';
import { FoundationStack } from '../../lib/foundation-stack.js';
import { RagStack } from '../../lib/rag-stack.js';
import { awsSolutionsFindings } from '../support/nag.js';

describe('EndpointStack', () => {
  const app = new App();
  const foundation = new FoundationStack(app, 'Foundation', { stage: 'test' });
  const stack = new EndpointStack(app, 'Endpoint', {
    stage: 'test',
    artifacts: foundation.artifacts.bucket,
    alerts: foundation.alerts.topic,
    model: { modelS3Uri: 's3://twin-artifacts/models/twin-run-1-dpo/output/model.tar.gz' },
  });
  // Built before any synthesis: the construct tree cannot change after the first.
  const rag = new RagStack(app, 'Rag', {
    stage: 'test',
    secrets: foundation.secrets,
    alerts: foundation.alerts.topic,
    generator: { kind: 'sagemaker', endpointName: stack.twin.endpointName },
  });
  const template = Template.fromStack(stack);

  it('serves the model with TGI as SYSTEM.md §7 sets it, with a 15-minute health check', () => {
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: {
        Image: Match.anyValue(),
        ModelDataUrl: 's3://twin-artifacts/models/twin-run-1-dpo/output/model.tar.gz',
        Environment: {
          HF_MODEL_ID: '/opt/ml/model',
          SM_NUM_GPUS: '1',
          MAX_INPUT_LENGTH: '2048',
          MAX_TOTAL_TOKENS: '4096',
          MAX_BATCH_TOTAL_TOKENS: '4096',
          HF_MODEL_QUANTIZE: 'bitsandbytes',
        },
      },
    });
    expect(JSON.stringify(template.findResources('AWS::SageMaker::Model'))).toContain(
      'huggingface-pytorch-tgi-inference:',
    );
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        Match.objectLike({
          VariantName: 'AllTraffic',
          InstanceType: 'ml.g5.2xlarge',
          InitialInstanceCount: 1,
          ContainerStartupHealthCheckTimeoutInSeconds: 900,
        }),
      ],
    });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: 'llm-twin-test' });
  });

  it('wires autoscaling in: 1 to 6 instances, 5 invocations per instance, 200 s cooldowns', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'sagemaker',
      ResourceId: 'endpoint/llm-twin-test/variant/AllTraffic',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 1,
      MaxCapacity: 6,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        TargetValue: 5,
        ScaleInCooldown: 200,
        ScaleOutCooldown: 200,
      },
    });
  });

  it('is deleted with the stack (endpoint, configuration, model, scaling)', () => {
    for (const type of [
      'AWS::SageMaker::Endpoint',
      'AWS::SageMaker::EndpointConfig',
      'AWS::SageMaker::Model',
      'AWS::ApplicationAutoScaling::ScalableTarget',
    ]) {
      for (const resource of Object.values(template.findResources(type)) as { DeletionPolicy?: string }[]) {
        expect(resource.DeletionPolicy ?? 'Delete').toBe('Delete');
      }
    }
  });

  it('deploys approved models with a workflow whose rollback alarms watch this endpoint', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'llm-twin-test-endpoint-5xx',
      MetricName: 'Invocation5XXErrors',
      Namespace: 'AWS/SageMaker',
      Dimensions: Match.arrayWith([{ Name: 'EndpointName', Value: 'llm-twin-test' }]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'llm-twin-test-endpoint-latency',
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p95',
      Threshold: 10_000_000,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ROLLBACK_ALARMS: 'llm-twin-test-endpoint-5xx,llm-twin-test-endpoint-latency',
          MODEL_PACKAGE_GROUP: 'llm-twin-test',
        }),
      },
    });
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as {
      Properties: { DefinitionString: unknown };
    }[];
    expect(JSON.stringify(machine?.Properties.DefinitionString)).toContain(
      'aws-sdk:sagemaker:updateEndpoint',
    );
  });

  it("lets SageMaker read the rollback alarms with the endpoint's execution role, and only those", () => {
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Principal: { Service: 'sagemaker.amazonaws.com' } }),
          ]),
        },
      },
    });
    const roleIds = Object.keys(roles);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: {
        Roles: { Ref: string }[];
        PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] };
      };
    }[];
    const describeAlarms = policies
      .filter((policy) => policy.Properties.Roles.some((role) => roleIds.includes(role.Ref)))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((statement) => JSON.stringify(statement.Action).includes('cloudwatch:DescribeAlarms'));
    expect(describeAlarms).toHaveLength(1);
    const resources = JSON.stringify(describeAlarms[0]?.Resource);
    const alarmIds = Object.keys(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: Match.stringLikeRegexp('-endpoint-') },
      }),
    );
    for (const id of alarmIds) expect(resources).toContain(id);
    expect(alarmIds).toHaveLength(2);
  });

  it('deploys to the same variant and instance type, the update SageMaker allows with autoscaling on', () => {
    const other = new App();
    const base = new FoundationStack(other, 'Foundation', { stage: 'test' });
    const custom = Template.fromStack(
      new EndpointStack(other, 'Endpoint', {
        stage: 'test',
        artifacts: base.artifacts.bucket,
        alerts: base.alerts.topic,
        model: { hubModelId: 'mlabonne/TwinLlama-3.1-8B' },
        instanceType: 'ml.g6.2xlarge',
      }),
    );
    custom.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        Match.objectLike({ VariantName: TWIN_VARIANT_NAME, InstanceType: 'ml.g6.2xlarge' }),
      ],
    });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ INSTANCE_TYPE: 'ml.g6.2xlarge' }) },
    });
    custom.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ResourceId: `endpoint/llm-twin-test/variant/${TWIN_VARIANT_NAME}`,
    });
  });

  it('passes the AWS Solutions checks', () => {
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });

  it('lets the RAG function invoke this endpoint only', () => {
    const policies = JSON.stringify(Template.fromStack(rag).findResources('AWS::IAM::Policy'));
    expect(policies).toContain(':endpoint/llm-twin-test"');
    expect(policies).not.toMatch(/:endpoint\/\*/u);
  });
});

describe('EndpointStack with a minimum of 0 (scale to zero when idle)', () => {
  const app = new App();
  const foundation = new FoundationStack(app, 'Foundation', { stage: 'dev' });
  const stack = new EndpointStack(app, 'Endpoint', {
    stage: 'dev',
    artifacts: foundation.artifacts.bucket,
    alerts: foundation.alerts.topic,
    model: { hubModelId: 'mlabonne/TwinLlama-3.1-8B' },
    scaling: { minInstances: 0, maxInstances: 2 },
  });
  const rag = new RagStack(app, 'Rag', {
    stage: 'dev',
    secrets: foundation.secrets,
    alerts: foundation.alerts.topic,
    generator: {
      kind: 'sagemaker',
      endpointName: stack.twin.endpointName,
      inferenceComponentName: 'llm-twin-dev-twin',
    },
  });
  const template = Template.fromStack(stack);
  const logicalId = (type: string, match: (properties: Record<string, unknown>) => boolean) =>
    Object.entries(template.findResources(type)).find(([, resource]) =>
      match((resource as { Properties: Record<string, unknown> }).Properties),
    )?.[0];

  it('hosts the twin as an inference component on a variant whose instances may go to zero', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ExecutionRoleArn: Match.anyValue(),
      ProductionVariants: [
        {
          VariantName: TWIN_VARIANT_NAME,
          InstanceType: 'ml.g5.2xlarge',
          InitialInstanceCount: 1,
          ManagedInstanceScaling: { Status: 'ENABLED', MinInstanceCount: 0, MaxInstanceCount: 2 },
          RoutingConfig: { RoutingStrategy: 'LEAST_OUTSTANDING_REQUESTS' },
        },
      ],
    });
    template.hasResourceProperties('AWS::SageMaker::InferenceComponent', {
      InferenceComponentName: 'llm-twin-dev-twin',
      VariantName: TWIN_VARIANT_NAME,
      Specification: {
        ModelName: Match.anyValue(),
        StartupParameters: { ContainerStartupHealthCheckTimeoutInSeconds: 900 },
        ComputeResourceRequirements: { NumberOfAcceleratorDevicesRequired: 1, MinMemoryRequiredInMb: 8192 },
      },
      RuntimeConfig: { CopyCount: 1 },
    });
  });

  it('scales copies between 0 and the maximum on invocations per copy', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ResourceId: 'inference-component/llm-twin-dev-twin',
      ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
      MinCapacity: 0,
      MaxCapacity: 2,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'SageMakerInferenceComponentInvocationsPerCopy',
        },
        TargetValue: 5,
      },
    });
    const targets = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalableTarget')).map(
      (target) => (target as { Properties: { ResourceId: string } }).Properties.ResourceId,
    );
    expect(targets).toEqual(['inference-component/llm-twin-dev-twin']);
  });

  it('wakes from zero: a request without capacity fires an alarm whose step policy adds one copy', () => {
    const wakeUp = logicalId(
      'AWS::ApplicationAutoScaling::ScalingPolicy',
      (properties) => properties.PolicyType === 'StepScaling',
    );
    expect(wakeUp).toBeDefined();
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: {
        AdjustmentType: 'ChangeInCapacity',
        StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'llm-twin-dev-wake-up',
      Namespace: 'AWS/SageMaker',
      MetricName: 'NoCapacityInvocationFailures',
      Dimensions: [{ Name: 'InferenceComponentName', Value: 'llm-twin-dev-twin' }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: wakeUp }],
    });
  });

  it('is deleted with the stack, component and wake-up alarm included', () => {
    for (const type of [
      'AWS::SageMaker::InferenceComponent',
      'AWS::SageMaker::Endpoint',
      'AWS::ApplicationAutoScaling::ScalableTarget',
      'AWS::CloudWatch::Alarm',
    ]) {
      const resources = Object.values(template.findResources(type)) as { DeletionPolicy?: string }[];
      expect(resources.length).toBeGreaterThan(0);
      for (const resource of resources) expect(resource.DeletionPolicy ?? 'Delete').toBe('Delete');
    }
  });

  it('watches the component for rollbacks and deploys by updating it, nothing else', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'llm-twin-dev-endpoint-5xx',
      Dimensions: [{ Name: 'InferenceComponentName', Value: 'llm-twin-dev-twin' }],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ INFERENCE_COMPONENT: 'llm-twin-dev-twin' }) },
    });
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('sagemaker:UpdateInferenceComponentRuntimeConfig');
    expect(policies).toContain(':inference-component/llm-twin-dev-twin"');
    expect(policies).not.toContain('sagemaker:UpdateEndpoint');
    expect(policies).not.toContain('sagemaker:CreateEndpointConfig');
  });

  it('passes the AWS Solutions checks', () => {
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });

  it('lets the RAG function invoke this endpoint and component only, and names the component', () => {
    const ragTemplate = Template.fromStack(rag);
    const policies = JSON.stringify(ragTemplate.findResources('AWS::IAM::Policy'));
    expect(policies).toContain(':endpoint/llm-twin-dev"');
    expect(policies).toContain(':inference-component/llm-twin-dev-twin"');
    ragTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ TWIN_SAGEMAKER_INFERENCE_COMPONENT: 'llm-twin-dev-twin' }),
      },
    });
  });
});
