import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDeploymentHandler } from '../../lambdas/handlers/deployment.js';
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

describe('the deployment workflow (statemachines/deployment.asl.json) run locally', () => {
  let calls: { state: string; input: Record<string, unknown> }[];
  let notifications: { Subject: string; Message: string }[];
  let statuses: { status: string; config: 'new' | 'old' }[];
  let answer: string;
  let approved: RegisteredModel | undefined;

  beforeEach(() => {
    calls = [];
    notifications = [];
    statuses = [
      { status: 'Updating', config: 'old' },
      { status: 'InService', config: 'new' },
    ];
    answer = 'Hello!';
    approved = APPROVED;
  });

  function run(input: Json = {}) {
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
        instanceType: 'ml.g5.2xlarge',
        minInstances: 1,
        rollbackAlarms: ['llm-twin-test-endpoint-5xx', 'llm-twin-test-endpoint-latency'],
        environment: { SM_NUM_GPUS: '1', MAX_INPUT_LENGTH: '2048' },
        bakeSeconds: 600,
      },
      { approved: () => Promise.resolve(approved), list: () => Promise.resolve(approved ? [approved] : []) },
      () => Promise.resolve('twin-test-previous'),
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
          RollBack: record('RollBack'),
          DescribeEndpoint: (event: Json) => {
            calls.push({ state: 'DescribeEndpoint', input: event as Record<string, unknown> });
            const next = statuses[Math.min(describes++, statuses.length - 1)] ?? {
              status: 'Updating',
              config: 'old',
            };
            const plan = calls.find((call) => call.state === 'CreateEndpointConfig')?.input
              .EndpointConfigName;
            return Promise.resolve({
              EndpointStatus: next.status,
              EndpointConfigName: next.config === 'new' ? plan : 'twin-test-previous',
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

  const states = () => calls.map((call) => call.state).filter((state) => state !== 'DescribeEndpoint');

  it('rolls the approved model out blue/green with alarm rollback, waits for it, smoke-tests it and says so', async () => {
    const output = (await run()) as Record<string, string>;
    expect(states()).toEqual(['CreateModel', 'CreateEndpointConfig', 'UpdateEndpoint']);
    const model = calls[0]?.input as { ModelName: string; PrimaryContainer: Record<string, unknown> };
    expect(model.ModelName).toBe('twin-test-v7-deploy1');
    expect(model.PrimaryContainer).toMatchObject({
      Image: APPROVED.image,
      ModelDataUrl: APPROVED.modelS3Uri,
      Environment: { SM_NUM_GPUS: '1', MAX_INPUT_LENGTH: '2048', HF_MODEL_ID: '/opt/ml/model' },
    });
    expect(calls.find((call) => call.state === 'UpdateEndpoint')?.input).toMatchObject({
      EndpointName: 'llm-twin-test',
      EndpointConfigName: 'twin-test-v7-deploy1',
      DeploymentConfig: {
        BlueGreenUpdatePolicy: { TerminationWaitInSeconds: 600 },
        AutoRollbackConfiguration: {
          Alarms: [
            { AlarmName: 'llm-twin-test-endpoint-5xx' },
            { AlarmName: 'llm-twin-test-endpoint-latency' },
          ],
        },
      },
    });
    expect(output).toEqual({
      endpointName: 'llm-twin-test',
      endpointConfigName: 'twin-test-v7-deploy1',
      modelPackageArn: APPROVED.arn,
    });
    expect(notifications[0]?.Subject).toBe('LLM Twin: a new model is serving');
    expect(notifications[0]?.Message).toContain('Smoke test: Hello!');
  });

  it('reports a rollback by the alarms: the previous configuration keeps serving', async () => {
    statuses = [
      { status: 'Updating', config: 'old' },
      { status: 'InService', config: 'old' },
    ];
    const execution = run();
    await expect(execution).rejects.toThrow(/DeploymentRolledBack|previous model keeps serving/u);
    expect(states()).not.toContain('RollBack');
    expect(notifications[0]?.Subject).toBe('LLM Twin: a deployment was rolled back');
  });

  it('puts the previous configuration back when the smoke test fails', async () => {
    answer = '   ';
    await expect(run()).rejects.toBeInstanceOf(ExecutionError);
    expect(calls.find((call) => call.state === 'RollBack')?.input).toEqual({
      EndpointName: 'llm-twin-test',
      EndpointConfigName: 'twin-test-previous',
      RetainAllVariantProperties: true,
    });
    expect(notifications[0]?.Message).toContain('answered with empty text');
  });

  it('stops polling after a bounded number of attempts and says the deployment is taking too long', async () => {
    statuses = [{ status: 'Updating', config: 'old' }];
    await expect(run()).rejects.toThrow(/DeploymentTimedOut|did not become InService/u);
    expect(calls.filter((call) => call.state === 'DescribeEndpoint')).toHaveLength(41);
    expect(notifications[0]?.Subject).toBe('LLM Twin: a deployment is taking too long');
  });

  it('deploys nothing when no model is approved', async () => {
    approved = undefined;
    await expect(run()).rejects.toBeInstanceOf(ExecutionError);
    expect(states()).toEqual([]);
    expect(notifications[0]?.Message).toContain('no approved model to deploy yet');
  });
});
