import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDeploymentHandler } from '../../lambdas/handlers/deployment.js';
import type { TwinHosting } from '../../lambdas/deployment/plan.js';
import { DeploymentService } from '../../lambdas/deployment/service.js';
import type { ChatModel } from '../../lambdas/ports/chat-model.js';
import type { RegisteredModel } from '../../lambdas/ports/model-registry.js';
import { FAKE_FUNCTION_ARN, loadDefinition } from '../support/state-machines.js';

type Json = Parameters<StateMachine['run']>[0];
const ALERTS = 'arn:aws:sns:eu-west-1:123456789012:twin-alerts';
const APPROVED: RegisteredModel = {
  arn: 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/llm-twin-test/7',
  version: 7,
  status: 'Approved',
  createdAt: '2026-11-27T00:00:00.000Z',
  scores: { accuracy: 2.5, style: 2.2 },
  metadata: {},
  modelS3Uri: 's3://twin-artifacts/models/twin-run-1-dpo/output/model.tar.gz',
  image: '763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-tgi-inference:tgi',
};
const NEW_NAME = 'twin-test-v7-deploy1';
const VARIANT: TwinHosting = { kind: 'variant', instanceType: 'ml.g5.2xlarge', minInstances: 1 };
/** SageMaker rolls back by itself when either alarm fires while the new model bakes. */
const ROLLBACK_ON_ALARMS = {
  Alarms: [{ AlarmName: 'llm-twin-test-endpoint-5xx' }, { AlarmName: 'llm-twin-test-endpoint-latency' }],
};
/** The workflow's output once the new model serves. */
const DEPLOYED = { endpointName: 'llm-twin-test', serves: NEW_NAME, modelPackageArn: APPROVED.arn };
const COMPONENT: TwinHosting = { kind: 'inference-component', inferenceComponentName: 'llm-twin-test-twin' };

/** What a describe call reports: its status, whether the new model serves, and (components) copies. */
interface Observed {
  status: string;
  serving: 'new' | 'old';
  copies?: number;
  desiredCopies?: number;
}

describe('the deployment workflow (statemachines/deployment.asl.json) run locally', () => {
  let calls: { state: string; input: Record<string, unknown> }[];
  let notifications: { Subject: string; Message: string }[];
  let observed: Observed[];
  let answer: string;
  let approved: RegisteredModel | undefined;

  beforeEach(() => {
    calls = [];
    notifications = [];
    observed = [
      { status: 'Updating', serving: 'old' },
      { status: 'InService', serving: 'new', copies: 1, desiredCopies: 1 },
    ];
    answer = 'Hello!';
    approved = APPROVED;
  });

  function run(hosting: TwinHosting, input: Json = {}) {
    const previous = hosting.kind === 'variant' ? 'twin-test-previous-config' : 'twin-test-previous-model';
    const twin: ChatModel = {
      model: 'sagemaker:llm-twin-test',
      generate: () => Promise.resolve({ text: answer }),
      stream: () => {
        throw new Error('not used');
      },
    };
    const service = new DeploymentService(
      {
        stage: 'test',
        endpointName: 'llm-twin-test',
        roleArn: 'arn:aws:iam::123456789012:role/twin-endpoint',
        hosting,
        rollbackAlarms: ['llm-twin-test-endpoint-5xx', 'llm-twin-test-endpoint-latency'],
        environment: { SM_NUM_GPUS: '1', MAX_INPUT_LENGTH: '2048' },
        bakeSeconds: 600,
      },
      { approved: () => Promise.resolve(approved), list: () => Promise.resolve(approved ? [approved] : []) },
      () => Promise.resolve(previous),
      twin,
    );
    const handler = createDeploymentHandler(() => Promise.resolve(service));
    const record =
      (state: string, result: unknown = {}) =>
      (event: Json) => {
        calls.push({ state, input: event as Record<string, unknown> });
        return Promise.resolve(result as Json);
      };
    const notify = (event: Json) => {
      notifications.push(event as unknown as { Subject: string; Message: string });
      return Promise.resolve({} as Json);
    };
    let describes = 0;
    const nextObserved = (state: string, event: Json): Observed => {
      calls.push({ state, input: event as Record<string, unknown> });
      return observed[Math.min(describes++, observed.length - 1)] ?? { status: 'Updating', serving: 'old' };
    };
    const machine = new StateMachine(
      loadDefinition('deployment.asl.json', {
        DeploymentFunctionArn: FAKE_FUNCTION_ARN,
        AlertsTopicArn: ALERTS,
      }) as never,
    );
    return machine.run(input, {
      context: {
        Execution: {
          Name: 'deploy-1',
          Id: 'arn:aws:states:eu-west-1:123456789012:execution:deployment:deploy-1',
        },
      },
      overrides: {
        taskResourceLocalHandlers: {
          PlanDeployment: async (event: Json) => (await handler(event)) as unknown as Json,
          SmokeTest: async (event: Json) => (await handler(event)) as unknown as Json,
          CreateModel: record('CreateModel'),
          CreateEndpointConfig: record('CreateEndpointConfig'),
          CreateEndpoint: record('CreateEndpoint'),
          UpdateEndpoint: record('UpdateEndpoint'),
          UpdateInferenceComponent: record('UpdateInferenceComponent'),
          WakeForSmokeTest: record('WakeForSmokeTest'),
          RollBack: record('RollBack'),
          RollBackInferenceComponent: record('RollBackInferenceComponent'),
          // The two describes answer as SageMaker does: the status and what serves.
          DescribeEndpoint: (event: Json) => {
            const next = nextObserved('DescribeEndpoint', event);
            return Promise.resolve({
              EndpointStatus: next.status,
              EndpointConfigName: next.serving === 'new' ? NEW_NAME : previous,
            } as Json);
          },
          DescribeInferenceComponent: (event: Json) => {
            const next = nextObserved('DescribeInferenceComponent', event);
            return Promise.resolve({
              InferenceComponentStatus: next.status,
              Specification: { ModelName: next.serving === 'new' ? NEW_NAME : previous },
              RuntimeConfig: {
                CurrentCopyCount: next.copies ?? 1,
                DesiredCopyCount: next.desiredCopies ?? 1,
              },
            } as Json);
          },
          NotifyDeployed: notify,
          NotifyRolledBack: notify,
          NotifyTimedOut: notify,
          NotifyFailure: notify,
        },
        waitTimeOverrides: { WaitForEndpoint: 0 },
        retryIntervalOverrides: { PlanDeployment: 0, SmokeTest: 0, NotifyFailure: 0 },
      },
    }).result;
  }

  const states = () => calls.map((call) => call.state).filter((state) => !state.startsWith('Describe'));
  const inputOf = (state: string) => calls.find((call) => call.state === state)?.input;

  describe('on an endpoint whose variant hosts the model', () => {
    it('rolls the approved model out blue/green with alarm rollback, waits for it, smoke-tests it and says so', async () => {
      const output = (await run(VARIANT)) as Record<string, string>;
      expect(states()).toEqual(['CreateModel', 'CreateEndpointConfig', 'UpdateEndpoint']);
      const model = calls[0]?.input as { ModelName: string; PrimaryContainer: Record<string, unknown> };
      expect(model.ModelName).toBe(NEW_NAME);
      expect(model.PrimaryContainer).toMatchObject({
        Image: APPROVED.image,
        ModelDataUrl: APPROVED.modelS3Uri,
        Environment: { SM_NUM_GPUS: '1', MAX_INPUT_LENGTH: '2048', HF_MODEL_ID: '/opt/ml/model' },
      });
      expect(inputOf('UpdateEndpoint')).toMatchObject({
        EndpointName: 'llm-twin-test',
        EndpointConfigName: NEW_NAME,
        RetainAllVariantProperties: true,
        DeploymentConfig: {
          BlueGreenUpdatePolicy: { TerminationWaitInSeconds: 600 },
          AutoRollbackConfiguration: ROLLBACK_ON_ALARMS,
        },
      });
      expect(output).toEqual(DEPLOYED);
      expect(notifications[0]?.Subject).toBe('LLM Twin: a new model is serving');
      expect(notifications[0]?.Message).toContain('Smoke test: Hello!');
    });

    it('reports a rollback by the alarms: the previous configuration keeps serving', async () => {
      observed = [
        { status: 'Updating', serving: 'old' },
        { status: 'InService', serving: 'old' },
      ];
      await expect(run(VARIANT)).rejects.toThrow(/DeploymentRolledBack|previous model keeps serving/u);
      expect(states()).not.toContain('RollBack');
      expect(notifications[0]?.Subject).toBe('LLM Twin: a deployment was rolled back');
      expect(notifications[0]?.Message).toContain('serving twin-test-previous-config');
    });

    it('puts the previous configuration back when the smoke test fails', async () => {
      answer = '   ';
      await expect(run(VARIANT)).rejects.toBeInstanceOf(ExecutionError);
      expect(inputOf('RollBack')).toEqual({
        EndpointName: 'llm-twin-test',
        EndpointConfigName: 'twin-test-previous-config',
        RetainAllVariantProperties: true,
      });
      expect(notifications[0]?.Message).toContain('answered with empty text');
    });

    it('stops polling after a bounded number of attempts and says the deployment is taking too long', async () => {
      observed = [{ status: 'Updating', serving: 'old' }];
      await expect(run(VARIANT)).rejects.toThrow(/DeploymentTimedOut|did not become InService/u);
      expect(calls.filter((call) => call.state === 'DescribeEndpoint')).toHaveLength(41);
      expect(notifications[0]?.Subject).toBe('LLM Twin: a deployment is taking too long');
    });

    it('deploys nothing when no model is approved', async () => {
      approved = undefined;
      await expect(run(VARIANT)).rejects.toBeInstanceOf(ExecutionError);
      expect(states()).toEqual([]);
      expect(notifications[0]?.Message).toContain('no approved model to deploy yet');
    });
  });

  describe('on an endpoint that scales to zero (the model is an inference component)', () => {
    it('updates the component one copy at a time with alarm rollback, with no new endpoint configuration', async () => {
      const output = (await run(COMPONENT)) as Record<string, string>;
      expect(states()).toEqual(['CreateModel', 'UpdateInferenceComponent']);
      expect(inputOf('UpdateInferenceComponent')).toEqual({
        InferenceComponentName: 'llm-twin-test-twin',
        Specification: {
          ModelName: NEW_NAME,
          StartupParameters: {
            ContainerStartupHealthCheckTimeoutInSeconds: 900,
            ModelDataDownloadTimeoutInSeconds: 900,
          },
          ComputeResourceRequirements: { NumberOfAcceleratorDevicesRequired: 1, MinMemoryRequiredInMb: 8192 },
        },
        DeploymentConfig: {
          RollingUpdatePolicy: {
            MaximumBatchSize: { Type: 'COPY_COUNT', Value: 1 },
            RollbackMaximumBatchSize: { Type: 'COPY_COUNT', Value: 1 },
            WaitIntervalInSeconds: 600,
            MaximumExecutionTimeoutInSeconds: 4200,
          },
          AutoRollbackConfiguration: ROLLBACK_ON_ALARMS,
        },
      });
      expect(output).toEqual(DEPLOYED);
      expect(notifications[0]?.Message).toContain('Smoke test: Hello!');
    });

    it('wakes a component that scaled to zero for the smoke test, and waits for its copy', async () => {
      observed = [
        { status: 'InService', serving: 'new', copies: 0, desiredCopies: 0 },
        { status: 'InService', serving: 'new', copies: 0, desiredCopies: 1 },
        { status: 'InService', serving: 'new', copies: 1, desiredCopies: 1 },
      ];
      await run(COMPONENT);
      expect(states()).toEqual(['CreateModel', 'UpdateInferenceComponent', 'WakeForSmokeTest']);
      expect(inputOf('WakeForSmokeTest')).toEqual({
        InferenceComponentName: 'llm-twin-test-twin',
        DesiredRuntimeConfig: { CopyCount: 1 },
      });
      expect(calls.filter((call) => call.state === 'DescribeInferenceComponent')).toHaveLength(3);
      expect(notifications[0]?.Subject).toBe('LLM Twin: a new model is serving');
    });

    it('reports a rollback by the alarms when the component is back on the previous model', async () => {
      observed = [
        { status: 'Updating', serving: 'old' },
        { status: 'InService', serving: 'old' },
      ];
      await expect(run(COMPONENT)).rejects.toThrow(/DeploymentRolledBack|previous model keeps serving/u);
      expect(notifications[0]?.Message).toContain('serving twin-test-previous-model');
    });

    it('puts the previous model back on the component when the smoke test fails', async () => {
      answer = '';
      await expect(run(COMPONENT)).rejects.toBeInstanceOf(ExecutionError);
      expect(states()).not.toContain('RollBack');
      expect(inputOf('RollBackInferenceComponent')).toEqual({
        InferenceComponentName: 'llm-twin-test-twin',
        Specification: expect.objectContaining({ ModelName: 'twin-test-previous-model' }) as unknown,
      });
    });

    it('refuses to deploy when the component does not exist yet', async () => {
      const absent = new DeploymentService(
        {
          stage: 'test',
          endpointName: 'llm-twin-test',
          roleArn: 'arn:aws:iam::123456789012:role/twin-endpoint',
          hosting: COMPONENT,
          rollbackAlarms: [],
          environment: {},
          bakeSeconds: 600,
        },
        { approved: () => Promise.resolve(APPROVED), list: () => Promise.resolve([APPROVED]) },
        () => Promise.resolve(undefined),
        { model: 'unused', generate: () => Promise.reject(new Error('unused')), stream: () => ({}) as never },
      );
      await expect(absent.plan('deploy-2', {})).rejects.toThrow(/deploy the Endpoint stack first/u);
    });
  });
});
