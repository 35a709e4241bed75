import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  caughtNames,
  cloudAssembly,
  referencedId,
  joinCfnString,
  STAGES,
  stackTemplates,
  synthesizedFunctions,
  synthesizedStateMachines,
  taskStates,
  type SynthesizedFunction,
} from '../support/cloud-assembly.js';
import { startS3Simulator, startSecretsManagerSimulator } from '../support/aws-simulators.js';
import { join } from 'node:path';
import { readAuthorConfigs } from '../../lambdas/collection/author-config.js';
import type { GatheredForRun } from '../../lambdas/handlers/ct-authors.js';
import { UNSET_SECRET_VALUE } from '../../lambdas/settings/settings.js';
import { IN_CI, REPO_ROOT } from '../support/environment.js';
import {
  imageTaskRoot,
  invokeInLambdaRuntime,
  lambdaNode,
  runtimeMajorOf,
  zipTaskRoot,
  type TaskRoot,
} from '../support/lambda-runtime.js';
import { zipArchive } from '../support/zip-archives.js';

/**
 * Every error a workflow catches by name, thrown by the code AWS will run: each function's asset from
 * a fresh `cdk synth`, alone in an empty task root, invoked in a clean process of its runtime's Node.js
 * release, its error reported as Lambda reports it (errorType = error.name). A minifier that renames a
 * class, or a bundle that needs a package the runtime lacks, fails here.
 */

const BUCKET = 'twin-artifacts';

type S3 = Awaited<ReturnType<typeof startS3Simulator>>;
interface Scenario {
  event: unknown;
  /** Objects to put in the artifact bucket first. */
  objects?: Record<string, string | Buffer>;
  environment?: Record<string, string>;
}

/** For each handler, an event that makes it throw each error a workflow catches by name. */
const SCENARIOS: Record<string, Record<string, (run: string) => Scenario>> = {
  'ct-authors': {
    InvalidInputError: () => ({
      event: { action: 'gather', executionName: 'run-1', input: { authors: 'everyone' } },
    }),
    InvalidSettingsError: () => ({
      event: { action: 'gather', executionName: 'run-1', input: {} },
      environment: { ARTIFACT_BUCKET: '' },
    }),
  },
  datasets: {
    InvalidInputError: (run) => ({ event: { action: 'plan', runId: run } }),
    InvalidSettingsError: (run) => ({
      event: { action: 'finish', runId: run, kind: 'instruct', batches: 0 },
      environment: { TWIN_VECTOR_STORE: 'pinecone' },
    }),
    ModelAccessError: (run) => ({
      event: { action: 'generate', runId: run, kind: 'instruct', batch: 0, extractsPerBatch: 20 },
      objects: {
        [`datasets/runs/${run}/inputs.json`]: JSON.stringify({ extracts: [], sources: [] }),
        [`datasets/runs/${run}/refused.json`]: JSON.stringify({ status: 401, message: 'invalid api key' }),
      },
    }),
    IncompleteRunError: (run) => ({
      event: { action: 'finish', runId: run, kind: 'instruct', batches: 1 },
      objects: { [`datasets/runs/${run}/inputs.json`]: JSON.stringify({ extracts: [], sources: [] }) },
    }),
    DatasetQualityError: (run) => ({
      event: { action: 'finish', runId: run, kind: 'instruct', batches: 1 },
      objects: {
        [`datasets/runs/${run}/inputs.json`]: JSON.stringify({ extracts: [], sources: [] }),
        [`datasets/runs/${run}/batch-0.json`]: JSON.stringify({
          samples: [],
          requests: 4,
          malformed: 1,
          failed: 3,
          failures: ['HTTP 500'],
          usage: { promptTokens: 0, completionTokens: 0 },
        }),
      },
    }),
  },
  training: {
    InvalidInputError: () => ({ event: { action: 'plan' } }),
    InvalidSettingsError: () => ({
      event: { action: 'plan', executionName: 'run-1', input: {} },
      environment: { TRAINING_INSTANCE_TYPE: 'a-laptop' },
    }),
  },
  deployment: {
    InvalidInputError: () => ({ event: { action: 'plan' } }),
    InvalidSettingsError: () => ({ event: { action: 'smoke' }, environment: { MIN_INSTANCES: 'none' } }),
  },
  features: {
    InvalidInputError: () => ({ event: { action: 'featurize' } }),
    InvalidSettingsError: () => ({
      event: { action: 'plan', executionName: 'run-1' },
      environment: { TWIN_VECTOR_STORE: 'pinecone' },
    }),
  },
  crawl: {
    InvalidInputError: () => ({ event: { action: 'crawl' } }),
    InvalidSettingsError: () => ({
      event: {
        action: 'start',
        executionName: 'run-1',
        request: { author: 'Ada Lovelace', links: ['https://example.com/a'] },
      },
      environment: { TWIN_WAREHOUSE: 'oracle' },
    }),
    ArchiveRefusedError: () => ({
      event: {
        action: 'import',
        author: 'Ada Lovelace',
        export: { key: 'exports/0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6.zip', platform: 'medium' },
      },
      objects: {
        'exports/0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6.zip': zipArchive([
          { name: '../escape.html', data: '<html></html>' },
        ]),
      },
    }),
  },
};

/** The error names that the deployed workflows catch from each function, by its logical id. */
async function caughtFromFunctions(assembly: string): Promise<Map<string, Set<string>>> {
  const caught = new Map<string, Set<string>>();
  for (const machine of await synthesizedStateMachines(assembly)) {
    for (const { state } of taskStates(machine.definition)) {
      const target = referencedId(state.Resource);
      if (!target) continue;
      const names = caughtNames(state).filter((name) => !name.startsWith('Lambda.'));
      caught.set(target, new Set([...(caught.get(target) ?? []), ...names]));
    }
  }
  return caught;
}

/** The input continuous training's schedule sends (the one EventBridge rule that starts it). */
async function scheduleInput(assembly: string): Promise<unknown> {
  for (const { template } of await stackTemplates(assembly)) {
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::Events::Rule') continue;
      const [target] = (resource.Properties?.Targets ?? []) as { Input?: string }[];
      if (target?.Input) return JSON.parse(target.Input) as unknown;
    }
  }
  throw new Error('no scheduled rule with an input');
}

/** The function's environment as deployed, references replaced by local stand-ins. */
function environmentOf(fn: SynthesizedFunction, local: Record<string, string>): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(fn.environment)) {
    resolved[name] = joinCfnString(value)
      .replaceAll('ref:AWS::URLSuffix', 'amazonaws.com')
      .replaceAll('ref:AWS::Region', 'eu-west-1')
      .replaceAll('ref:AWS::AccountId', '123456789012')
      .replaceAll('ref:AWS::Partition', 'aws')
      .replace(/ref:[^/]+/gu, 'resolved-at-deploy');
  }
  return { ...resolved, ...local };
}

const node = { 22: lambdaNode(22), 24: lambdaNode(24) } as Record<number, string | undefined>;
const servers = { mongoUri: inject('mongoUri'), qdrantUrl: inject('qdrantUrl') };
const ready = Boolean(node[22] && node[24] && servers.mongoUri && servers.qdrantUrl);
if (!ready && IN_CI) throw new Error('the bundle tests need Node.js 22 and 24, FerretDB and Qdrant');

/** What each secret holds once its owner has set it. */
const SECRET_VALUES = {
  MONGODB_URI: servers.mongoUri,
  QDRANT_URL: servers.qdrantUrl,
  QDRANT_API_KEY: 'qdrant-key',
  OPENAI_API_KEY: 'sk-local',
  HF_TOKEN: 'hf_local',
  OPIK_API_KEY: 'opik-local',
  LINKEDIN_USERNAME: 'ada@example.com',
  LINKEDIN_PASSWORD: 'a-real-password',
};

describe.skipIf(!ready)('the synthesized functions, invoked as Lambda invokes them', () => {
  let s3: S3;
  let secrets: Awaited<ReturnType<typeof startSecretsManagerSimulator>>;
  const roots = new Map<string, Promise<TaskRoot>>();

  beforeAll(async () => {
    s3 = await startS3Simulator();
    secrets = await startSecretsManagerSimulator(SECRET_VALUES);
  }, 120_000);
  afterAll(async () => {
    await s3.close();
    await secrets.close();
  });

  /** One task root per asset: dev and prod share their bundles. */
  function rootOf(fn: SynthesizedFunction): Promise<TaskRoot> {
    const key = fn.code.assetDir.replace(/.*\//u, '');
    let root = roots.get(key);
    if (!root) {
      root = fn.code.kind === 'zip' ? zipTaskRoot(fn) : imageTaskRoot(fn);
      roots.set(key, root);
    }
    return root;
  }

  async function invoke(fn: SynthesizedFunction, scenario: Scenario, secretStore = secrets) {
    for (const [key, body] of Object.entries(scenario.objects ?? {})) {
      await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    }
    const secretArns = Object.fromEntries(
      Object.keys(fn.environment)
        .filter((name) => name.endsWith('_SECRET_ARN'))
        .map((name) => [name, secretStore.arnOf(name.replace(/_SECRET_ARN$/u, ''))]),
    );
    return invokeInLambdaRuntime({
      node: node[await runtimeMajorOf(fn)] ?? '',
      root: await rootOf(fn),
      event: scenario.event,
      environment: environmentOf(fn, {
        ARTIFACT_BUCKET: BUCKET,
        AWS_ENDPOINT_URL_S3: s3.url,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secretStore.url,
        ...secretArns,
        ...scenario.environment,
      }),
      timeoutMs: 60_000,
    });
  }

  for (const stage of STAGES) {
    it(`${stage}: every error a workflow catches by name comes back from the function with that name`, async () => {
      const assembly = await cloudAssembly(stage);
      const functions = await synthesizedFunctions(assembly);
      const caught = await caughtFromFunctions(assembly);
      const checked: string[] = [];
      for (const fn of functions.filter((f) => f.ours)) {
        const names = [...(caught.get(fn.logicalId) ?? [])].sort();
        for (const name of names) {
          const scenario = SCENARIOS[fn.handlerName ?? '']?.[name];
          if (!scenario) throw new Error(`no scenario makes ${String(fn.handlerName)} throw ${name}`);
          const outcome = await invoke(fn, scenario(`run-${stage}-${String(checked.length)}`));
          expect(outcome.errorType, `${String(fn.handlerName)} → ${name}\n${outcome.logs}`).toBe(name);
          checked.push(`${String(fn.handlerName)}:${name}`);
        }
      }
      // The workflows catch these by name; a stage that loses one has lost a workflow or a function.
      expect(checked).toEqual(
        expect.arrayContaining([
          'datasets:InvalidInputError',
          'datasets:ModelAccessError',
          'datasets:IncompleteRunError',
          'datasets:DatasetQualityError',
          'training:InvalidSettingsError',
          'features:InvalidSettingsError',
          'crawl:ArchiveRefusedError',
          'ct-authors:InvalidInputError',
        ]),
      );
    }, 600_000);
  }

  it("continuous training's schedule collects configs/authors as deployed, read from the function's bundle", async () => {
    const assembly = await cloudAssembly('dev');
    const gather = (await synthesizedFunctions(assembly)).find((fn) => fn.handlerName === 'ct-authors');
    if (!gather) throw new Error('no continuous-training authors function');
    const input = await scheduleInput(assembly);
    expect(input).toEqual({ configuredAuthors: true });
    // As the workflow's GatherAuthors state sends it: the authors go to the Map's item file.
    const outcome = await invoke(gather, { event: { action: 'gather', executionName: 'weekly', input } });
    const configured = await readAuthorConfigs(join(REPO_ROOT, 'configs', 'authors'));
    expect(outcome.errorType, outcome.logs).toBeUndefined();
    const { items } = outcome.result as GatheredForRun;
    const itemFile = s3.objects.get(`${BUCKET}/${items.key}`)?.body.toString('utf8') ?? '[]';
    expect(JSON.parse(itemFile)).toEqual(configured.map(({ config }) => config));
    expect(configured.length).toBeGreaterThan(0);
  });

  it("a function whose secret still holds the stack's placeholder stops at start-up, naming it", async () => {
    const unset = await startSecretsManagerSimulator({ ...SECRET_VALUES, QDRANT_URL: UNSET_SECRET_VALUE });
    try {
      const assembly = await cloudAssembly('dev');
      const datasets = (await synthesizedFunctions(assembly)).find((fn) => fn.handlerName === 'datasets');
      if (!datasets) throw new Error('no datasets function');
      const outcome = await invoke(
        datasets,
        { event: { action: 'finish', runId: 'run-unset', kind: 'instruct', batches: 0 } },
        unset,
      );
      expect(outcome.errorType).toBe('InvalidSettingsError');
      expect(outcome.errorMessage).toContain(
        `QDRANT_URL: required when TWIN_VECTOR_STORE=qdrant (or set QDRANT_URL_SECRET_ARN on AWS); its secret ${unset.arnOf('QDRANT_URL')} still holds the placeholder`,
      );
      expect(outcome.errorMessage).toContain(
        `aws secretsmanager put-secret-value --secret-id ${unset.arnOf('QDRANT_URL')}`,
      );
    } finally {
      await unset.close();
    }
  });

  it('each of our functions loads with nothing but its own asset and the runtime', async () => {
    const functions = (await synthesizedFunctions(await cloudAssembly('prod'))).filter((f) => f.ours);
    for (const fn of functions) {
      const outcome = await invoke(fn, { event: { not: 'an event of this function' } });
      expect(
        outcome.errorType,
        `${String(fn.handlerName)}: ${String(outcome.errorMessage)}\n${outcome.logs}`,
      ).not.toMatch(/^Runtime\./u);
    }
  }, 600_000);
});
