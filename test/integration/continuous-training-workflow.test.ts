import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionError, type StateMachine } from 'aws-local-stepfunctions';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';
import { S3ArtifactStore } from '../../lambdas/adapters/artifacts/s3.js';
import { createCtAuthorsHandler } from '../../lambdas/handlers/ct-authors.js';
import { AuthorLinksRepository } from '../../lambdas/workspace/author-links.js';
import { startS3Simulator } from '../support/aws-simulators.js';
import { localWorkflow } from '../support/distributed-map.js';
import { FAKE_FUNCTION_ARN, loadDefinition } from '../support/state-machines.js';

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
  /** The saved link lists (the web app's author-configs/, here a folder). */
  let savedDir: string;
  let s3: Awaited<ReturnType<typeof startS3Simulator>>;

  beforeAll(async () => {
    s3 = await startS3Simulator();
  });
  afterAll(async () => {
    await s3.close();
  });

  beforeEach(async () => {
    savedDir = await mkdtemp(join(tmpdir(), 'twin-ct-saved-'));
    world = {
      inserted: { 'Paul Iusztin': 3, 'Maxime Labonne': 0 },
      chunks: 40,
      reused: { instruct: false, preference: true },
      decision: 'approved',
    };
    started = [];
    notifications = [];
  });

  afterEach(async () => {
    await rm(savedDir, { recursive: true, force: true });
  });

  function run(deploymentWorkflowArn = arn('deployment'), input: Json = { authors: AUTHORS }) {
    const authorSteps = createCtAuthorsHandler(() =>
      Promise.resolve({
        savedLists: new AuthorLinksRepository(new FolderArtifactStore(savedDir)),
        artifacts: new S3ArtifactStore(s3.client, 'artifacts'),
      }),
    );
    const authors = async (event: Json) => (await authorSteps(event)) as unknown as Json;
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
    const machine = localWorkflow(
      loadDefinition('continuous-training.asl.json', {
        EtlWorkflowArn: arn('etl'),
        FeatureWorkflowArn: arn('features'),
        DatasetWorkflowArn: arn('datasets'),
        TrainingWorkflowArn: arn('training'),
        DeploymentWorkflowArn: deploymentWorkflowArn,
        AuthorsFunctionArn: FAKE_FUNCTION_ARN,
        AlertsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
        ArtifactBucket: 'artifacts',
      }),
      s3.client,
    );
    return machine.run(input, {
      context: {
        Execution: { Name: 'weekly', Id: 'arn:aws:states:eu-west-1:123456789012:execution:ct:weekly' },
      },
      overrides: {
        taskResourceLocalHandlers: {
          GatherAuthors: authors,
          SummarizeCollection: authors,
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
        retryIntervalOverrides: { NotifyFailure: 0, GatherAuthors: 0, SummarizeCollection: 0 },
      },
    }).result as Promise<Record<string, unknown>>;
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

  it('collects the lists saved from the web app too, a saved list replacing the given one', async () => {
    await writeFile(
      join(savedDir, 'maxime-labonne.yaml'),
      'author: Maxime Labonne\nlinks:\n  - https://maximelabonne.substack.com/p/new\n',
    );
    await writeFile(
      join(savedDir, 'ada-lovelace.yaml'),
      'author: Ada Lovelace\nlinks:\n  - https://ada.example.com/p/1\n',
    );
    await writeFile(join(savedDir, 'broken.yaml'), 'author: [\n');
    await run();
    expect(started.filter((call) => call.state === 'RunEtl').map((call) => call.input.Input)).toEqual([
      { ...AUTHORS[0], startFeatures: false },
      { author: 'Maxime Labonne', links: ['https://maximelabonne.substack.com/p/new'], startFeatures: false },
      { author: 'Ada Lovelace', links: ['https://ada.example.com/p/1'], startFeatures: false },
    ]);
  });

  it('runs on the saved lists alone when started without authors', async () => {
    await writeFile(
      join(savedDir, 'ada-lovelace.yaml'),
      'author: Ada Lovelace\nlinks:\n  - https://ada.example.com/p/1\n',
    );
    const output = await run(arn('deployment'), {});
    expect(started.filter((call) => call.state === 'RunEtl').map((call) => call.input.Input)).toEqual([
      { author: 'Ada Lovelace', links: ['https://ada.example.com/p/1'], startFeatures: false },
    ]);
    expect(output.stoppedAfter).toBe('NoNewDocuments');
  });

  it('refuses a malformed start without collecting anything, and says why', async () => {
    await expect(run(arn('deployment'), { authors: [{ author: 'Nobody' }] })).rejects.toBeInstanceOf(
      ExecutionError,
    );
    expect(stages()).toEqual([]);
    expect(notifications[0]).toContain('input.authors.0.links');
  });

  it('keeps an approved model in the registry when the stage has no endpoint', async () => {
    const output = await run('none');
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
