import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionError, type StateMachine } from 'aws-local-stepfunctions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../lambdas/adapters/artifacts/s3.js';
import { HuggingFaceDatasetHub } from '../../lambdas/adapters/hub/huggingface.js';
import { OpenAiJsonModel } from '../../lambdas/adapters/llm/openai-json.js';
import { LanceVectorStore } from '../../lambdas/adapters/vector-store/index.js';
import { cleanDocument } from '../../lambdas/features/cleaning.js';
import { FeatureStore } from '../../lambdas/features/feature-store.js';
import { createDatasetHandler } from '../../lambdas/handlers/datasets.js';
import { startS3Simulator } from '../support/aws-simulators.js';
import { TEST_DATASET_SETTINGS } from '../support/dataset-settings.js';
import { localWorkflow } from '../support/distributed-map.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { startHubServer, type HubServer } from '../support/hub-server.js';
import { startLlmServer, type Fault, type LlmServer } from '../support/llm-server.js';
import { referenceArticles } from '../support/reference-corpus.js';
import { FAKE_FUNCTION_ARN, loadDefinition } from '../support/state-machines.js';

type Json = Parameters<StateMachine['run']>[0];

const SETTINGS = TEST_DATASET_SETTINGS;
const HUB_TOKEN = 'hf_workflow_test_token';

describe.runIf(referenceCorpusAvailable())(
  'the dataset workflow (statemachines/datasets.asl.json) run locally against the real handler',
  () => {
    let dir: string;
    let server: LlmServer;
    let vectors: LanceVectorStore;
    let calls: { state: string; input: Record<string, unknown> }[];
    let crashBatch: number | undefined;
    /** How the LLM server answers every request of a test. */
    let replies: Fault;
    let run: (input: Json, executionName: string) => Promise<Json>;
    let hubServer: HubServer;
    let s3: Awaited<ReturnType<typeof startS3Simulator>>;

    /** The artifact bucket's keys under a prefix (a fresh bucket per test). */
    const keysUnder = (prefix: string) =>
      [...s3.objects.keys()]
        .filter((key) => key.startsWith(`artifacts/${prefix}`))
        .map((key) => key.slice(`artifacts/${prefix}`.length))
        .sort();

    beforeEach(async () => {
      s3 = await startS3Simulator();
      dir = await mkdtemp(join(tmpdir(), 'twin-datasets-sfn-'));
      replies = 'ok';
      server = await startLlmServer({ fault: () => replies });
      vectors = await LanceVectorStore.open(join(dir, 'vectors'));
      const features = new FeatureStore(vectors, { id: 'test', size: 3, maxInputLength: 256 });
      await features.ensureCollections();
      await features.saveCleaned(
        'articles',
        referenceArticles()
          .slice(0, 4)
          .map((article) => cleanDocument(article, 'v1')),
      );
      const model = await OpenAiJsonModel.create({
        ...SETTINGS,
        baseUrl: `${server.url}/v1`,
        apiKey: 'test',
      });
      const artifacts = new S3ArtifactStore(s3.client, 'artifacts');
      hubServer = await startHubServer({ token: HUB_TOKEN });
      const hub = (repo: string) =>
        HuggingFaceDatasetHub.create({ repo, token: HUB_TOKEN, private: true, hubUrl: hubServer.url });
      const handler = createDatasetHandler(() =>
        Promise.resolve({ features, model, artifacts, settings: SETTINGS, hub }),
      );
      calls = [];
      crashBatch = undefined;
      const local = (state: string) => async (input: Json) => {
        const event = input as Record<string, unknown>;
        calls.push({ state, input: event });
        // Stands in for the Lambda runtime failing the invocation (out of memory, killed), not for our code.
        if (state === 'GenerateBatch' && event.batch === crashBatch) throw new Error('Runtime.OutOfMemory');
        return (await handler(input)) as unknown as Json;
      };
      const machine = localWorkflow(
        loadDefinition('datasets.asl.json', {
          DatasetFunctionArn: FAKE_FUNCTION_ARN,
          ArtifactBucket: 'artifacts',
        }),
        s3.client,
      );
      run = (input, executionName) =>
        machine.run(input, {
          context: { Execution: { Name: executionName } },
          overrides: {
            taskResourceLocalHandlers: {
              PlanExtracts: local('PlanExtracts'),
              GenerateBatch: local('GenerateBatch'),
              FinishDataset: local('FinishDataset'),
            },
            retryIntervalOverrides: { PlanExtracts: 0, GenerateBatch: 0, FinishDataset: 0 },
          },
        }).result;
    });

    afterEach(async () => {
      await hubServer.close();
      await vectors.close();
      await server.close();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('plans extract batches, generates them, and writes the versioned dataset; a second run finds it', async () => {
      const output = (await run({ kind: 'instruct', limit: 12, extractsPerBatch: 5 }, 'run-1')) as Record<
        string,
        unknown
      >;

      expect(calls.map((call) => call.state)).toEqual([
        'PlanExtracts',
        'GenerateBatch',
        'GenerateBatch',
        'GenerateBatch',
        'FinishDataset',
      ]);
      expect(output).toMatchObject({ reused: false, counts: { extracts: 12, generated: 60 } });
      const version = String(output.version);
      expect(keysUnder(`datasets/instruct/${version}/`)).toEqual([
        'manifest.json',
        'test.jsonl',
        'train.jsonl',
      ]);
      expect(server.requests).toBe(12);

      const again = (await run({ kind: 'instruct', limit: 12, extractsPerBatch: 5 }, 'run-2')) as Record<
        string,
        unknown
      >;
      expect(again).toMatchObject({ reused: true, version });
    });

    it('publishes the finished version to the Hub when the request names a repository', async () => {
      const output = (await run(
        { kind: 'instruct', limit: 12, hubRepo: 'ada/twin-instruct' },
        'run-5',
      )) as Record<string, unknown>;
      const version = String(output.version);
      expect(output.hub).toEqual({
        location: `${hubServer.url}/datasets/ada/twin-instruct`,
        published: true,
      });
      const files = [...(hubServer.repositories.get('ada/twin-instruct')?.files.keys() ?? [])].sort();
      expect(files).toEqual([
        'README.md',
        `data/${version}/manifest.json`,
        `data/${version}/test.jsonl`,
        `data/${version}/train.jsonl`,
      ]);
    });

    it('writes nothing when a batch keeps failing, and says to start again', async () => {
      crashBatch = 1;
      const execution = run({ kind: 'preference', limit: 12, extractsPerBatch: 5 }, 'run-3');

      await expect(execution).rejects.toBeInstanceOf(ExecutionError);
      await expect(execution).rejects.toThrow(
        /1 of 3 batches failed after their retries; nothing was written/u,
      );
      expect(calls.filter((call) => call.state === 'GenerateBatch' && call.input.batch === 1)).toHaveLength(
        3,
      );
      expect(calls.filter((call) => call.state === 'FinishDataset')).toHaveLength(1);
      expect(keysUnder('datasets/preference/')).toEqual([]);
    });

    it('fails at once when the provider refuses the key: no retries, no other batch, nothing written', async () => {
      replies = 'unauthorized';
      const execution = run({ kind: 'instruct', limit: 40, extractsPerBatch: 4 }, 'run-401');

      await expect(execution).rejects.toBeInstanceOf(ExecutionError);
      await expect(execution).rejects.toThrow(/refused the credentials/u);
      const generated = calls.filter((call) => call.state === 'GenerateBatch');
      // No batch is retried. Each stops at its first refused request, and a batch that starts after
      // the refusal sends nothing: only the two batches already running reached the provider.
      expect(new Set(generated.map((call) => call.input.batch)).size).toBe(generated.length);
      expect(generated.length).toBeLessThan(10);
      expect(server.requests).toBeLessThanOrEqual(2 * SETTINGS.concurrency);
      expect(calls.filter((call) => call.state === 'FinishDataset')).toHaveLength(0);
      expect(keysUnder('datasets/instruct/')).toEqual([]);
    });

    it('ends failed, without retrying or writing, when the generation is mostly malformed', async () => {
      replies = 'malformed';
      const execution = run({ kind: 'instruct', limit: 8, extractsPerBatch: 4 }, 'run-malformed');

      await expect(execution).rejects.toThrow(/8 of 8 generation requests failed or were malformed/u);
      expect(calls.filter((call) => call.state === 'FinishDataset')).toHaveLength(1);
      expect(keysUnder('datasets/instruct/')).toEqual([]);
    });

    it('rejects a request with an unknown kind or a bad Hub repository before any work, without retrying', async () => {
      await expect(run({ kind: 'pretraining' }, 'run-4')).rejects.toThrow(/kind/u);
      expect(calls).toHaveLength(1);
      await expect(run({ kind: 'instruct', hubRepo: 'not a repo' }, 'run-6')).rejects.toThrow(/hubRepo/u);
      expect(calls).toHaveLength(2);
      expect(server.requests).toBe(0);
    });
  },
);
