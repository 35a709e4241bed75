import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadDefinition } from '../support/state-machines.js';

type Json = Parameters<StateMachine['run']>[0];
const arn = (name: string) => `arn:aws:states:eu-west-1:123456789012:stateMachine:${name}`;
const AUTHORS = [
  { author: 'Paul Iusztin', links: ['https://decodingml.substack.com/p/a'] },
  { author: 'Maxime Labonne', links: ['https://maximelabonne.substack.com/p/b'] },
];

/** Stage outcomes, as the nested workflows would report them. */
interface World {
  inserted: Record<string, number>;
  chunks: number;
  reused: { instruct: boolean; preference: boolean };
  decision: 'approved' | 'rejected';
  failIn?: string;
}

describe('the continuous-training workflow (statemachines/continuous-training.asl.json) run locally', () => {
  let world: World;
  let started: { state: string; input: Record<string, unknown> }[];
  let notifications: string[];

  beforeEach(() => {
    world = {
      inserted: { 'Paul Iusztin': 3, 'Maxime Labonne': 0 },
      chunks: 40,
      reused: { instruct: false, preference: true },
      decision: 'approved',
    };
    started = [];
    notifications = [];
  });

  function run(deploymentWorkflowArn = arn('deployment')) {
    const nested = (state: string, output: (input: Record<string, unknown>) => unknown) => (event: Json) => {
      const input = event as Record<string, unknown>;
      started.push({ state, input });
      if (world.failIn === state) {
        return Promise.reject(
          Object.assign(new Error(`${state} execution failed`), { name: 'States.TaskFailed' }),
        );
      }
      return Promise.resolve({ Output: output(input.Input as Record<string, unknown>) } as Json);
    };
    const machine = new StateMachine(
      loadDefinition('continuous-training.asl.json', {
        EtlWorkflowArn: arn('etl'),
        FeatureWorkflowArn: arn('features'),
        DatasetWorkflowArn: arn('datasets'),
        TrainingWorkflowArn: arn('training'),
        DeploymentWorkflowArn: deploymentWorkflowArn,
        AlertsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
      }) as never,
    );
    return machine.run(
      { authors: AUTHORS },
      {
        context: {
          Execution: { Name: 'weekly', Id: 'arn:aws:states:eu-west-1:123456789012:execution:ct:weekly' },
        },
        overrides: {
          taskResourceLocalHandlers: {
            RunEtl: nested('RunEtl', (input) => ({
              author: input.author,
              inserted: world.inserted[String(input.author)] ?? 0,
            })),
            RunFeatures: nested('RunFeatures', () => ({ documents: 3, chunks: world.chunks })),
            BuildInstruct: nested('BuildInstruct', () => ({
              version: 'aaaa1111',
              reused: world.reused.instruct,
            })),
            BuildPreference: nested('BuildPreference', () => ({
              version: 'bbbb2222',
              reused: world.reused.preference,
            })),
            Train: nested('Train', () => ({
              registration: {
                decision: world.decision,
                modelPackageArn: 'arn:aws:sagemaker:eu-west-1:1:model-package/g/3',
                reason: 'r',
              },
            })),
            Deploy: nested('Deploy', () => ({ endpointName: 'llm-twin-dev' })),
            NotifyFailure: (event: Json) => {
              notifications.push((event as { Message: string }).Message);
              return Promise.resolve({} as Json);
            },
          },
          retryIntervalOverrides: { NotifyFailure: 0 },
        },
      },
    ).result as Promise<Record<string, unknown>>;
  }

  const stages = () => [...new Set(started.map((call) => call.state))];

  it('runs every stage when each one produces something new, and deploys the approved model', async () => {
    const output = await run();
    expect(stages().sort()).toEqual([
      'BuildInstruct',
      'BuildPreference',
      'Deploy',
      'RunEtl',
      'RunFeatures',
      'Train',
    ]);
    expect(started.filter((call) => call.state === 'RunEtl').map((call) => call.input.Input)).toEqual([
      { ...AUTHORS[0], startFeatures: false },
      { ...AUTHORS[1], startFeatures: false },
    ]);
    expect(started.find((call) => call.state === 'Train')?.input.Input).toEqual({
      instructVersion: 'aaaa1111',
      preferenceVersion: 'bbbb2222',
    });
    expect(started.find((call) => call.state === 'Deploy')?.input).toEqual({
      StateMachineArn: arn('deployment'),
      Input: { modelPackageArn: 'arn:aws:sagemaker:eu-west-1:1:model-package/g/3' },
    });
    expect(output.deployed).toBe('arn:aws:sagemaker:eu-west-1:1:model-package/g/3');
  });

  it.each([
    [
      'no new documents',
      (w: World) => (w.inserted = { 'Paul Iusztin': 0, 'Maxime Labonne': 0 }),
      'NoNewDocuments',
      ['RunEtl'],
    ],
    ['no new chunks', (w: World) => (w.chunks = 0), 'NoNewChunks', ['RunEtl', 'RunFeatures']],
    [
      'both datasets unchanged',
      (w: World) => (w.reused = { instruct: true, preference: true }),
      'NoNewDataset',
      ['RunEtl', 'RunFeatures', 'BuildInstruct', 'BuildPreference'],
    ],
    [
      'the model rejected',
      (w: World) => (w.decision = 'rejected'),
      'ModelNotApproved',
      ['RunEtl', 'RunFeatures', 'BuildInstruct', 'BuildPreference', 'Train'],
    ],
  ])('stops early with %s', async (_case, change, stoppedAfter, ran) => {
    change(world);
    const output = await run();
    expect(output.stoppedAfter).toBe(stoppedAfter);
    expect(stages().sort()).toEqual([...ran].sort());
  });

  it('keeps an approved model in the registry when the stage has no endpoint', async () => {
    const output = await run('');
    expect(output.stoppedAfter).toBe('NoEndpoint');
    expect(stages()).not.toContain('Deploy');
  });

  it('notifies and fails when a stage fails', async () => {
    world.failIn = 'RunFeatures';
    await expect(run()).rejects.toBeInstanceOf(ExecutionError);
    expect(stages()).toEqual(['RunEtl', 'RunFeatures']);
    expect(notifications[0]).toContain('RunFeatures execution failed');
  });
});
