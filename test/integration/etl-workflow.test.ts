import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionError, type StateMachine } from 'aws-local-stepfunctions';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import { BrowserSession } from '../../lambdas/collection/crawlers/browser.js';
import type { CrawlEnvironment } from '../../lambdas/collection/crawlers/types.js';
import { DEFAULT_GIT } from '../../lambdas/collection/environment.js';
import { DEFAULT_LIMITS } from '../../lambdas/collection/http-fetch.js';
import { S3ArtifactStore } from '../../lambdas/adapters/artifacts/s3.js';
import { createCrawlHandler } from '../../lambdas/handlers/crawl.js';
import { CHROMIUM_PATH, chromiumAvailable } from '../support/chromium.js';
import { startFixtureSites, type FixtureSites } from '../support/fixture-sites.js';
import { startS3Simulator } from '../support/aws-simulators.js';
import { localWorkflow } from '../support/distributed-map.js';
import { FAKE_FUNCTION_ARN, loadDefinition } from '../support/state-machines.js';

type Json = Parameters<StateMachine['run']>[0];
const FEATURE_WORKFLOW_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:features';

describe.runIf(chromiumAvailable())(
  'the ETL workflow (statemachines/etl.asl.json) run locally against the real handler',
  () => {
    let sites: FixtureSites;
    let dir: string;
    let environment: CrawlEnvironment;
    let warehouse: EmbeddedWarehouse;
    let calls: { state: string; input: unknown }[];
    let run: (input: Json) => Promise<Json>;
    let s3: Awaited<ReturnType<typeof startS3Simulator>>;

    beforeAll(async () => {
      sites = await startFixtureSites();
      s3 = await startS3Simulator();
      dir = await mkdtemp(join(tmpdir(), 'twin-etl-sfn-'));
      const network = {
        allowLoopback: true,
        resolver: () => Promise.resolve([{ address: '127.0.0.1', family: 4 as const }]),
      };
      environment = {
        network,
        limits: DEFAULT_LIMITS,
        browser: new BrowserSession({ executablePath: CHROMIUM_PATH, network, navigationTimeoutMs: 20_000 }),
        git: DEFAULT_GIT,
      };
    });
    afterAll(async () => {
      await environment.browser.close();
      await sites.close();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    });
    beforeEach(() => {
      warehouse = new EmbeddedWarehouse(join(dir, `warehouse-${String(Date.now())}.sqlite`));
      const artifacts = new S3ArtifactStore(s3.client, 'artifacts');
      const handler = createCrawlHandler(() => Promise.resolve({ warehouse, environment, artifacts }));
      calls = [];
      const local = (state: string) => async (input: unknown) => {
        calls.push({ state, input });
        return (await handler(input)) as unknown as Json;
      };
      const machine = localWorkflow(
        loadDefinition('etl.asl.json', {
          CrawlFunctionArn: FAKE_FUNCTION_ARN,
          FeatureWorkflowArn: FEATURE_WORKFLOW_ARN,
          ArtifactBucket: 'artifacts',
        }),
        s3.client,
      );
      run = (input) =>
        machine.run(input, {
          overrides: {
            taskResourceLocalHandlers: {
              StartCollection: local('StartCollection'),
              CrawlLink: local('CrawlLink'),
              Summarize: local('Summarize'),
              StartFeaturePipeline: (input) => {
                calls.push({ state: 'StartFeaturePipeline', input });
                return { executionArn: `${FEATURE_WORKFLOW_ARN}:run-1` };
              },
            },
            retryIntervalOverrides: {
              StartCollection: 0,
              CrawlLink: 0,
              Summarize: 0,
              StartFeaturePipeline: 0,
            },
          },
        }).result;
    });
    afterEach(async () => {
      await warehouse.close();
    });

    it('collects every link, records the failing one, totals per domain and starts the feature pipeline', async () => {
      // The last link is too long for the crawl function: it throws, is not retried, and the Map catches it.
      const tooLong = `${sites.url}/p/${'x'.repeat(3000)}`;
      const links = [`${sites.url}/p/one`, `${sites.url}/p/two`, `${sites.url}/gone`, tooLong];
      const output = (await run({ author: 'Paul Iusztin', links })) as Record<string, unknown>;

      expect(output).toMatchObject({
        author: 'Paul Iusztin',
        inserted: 2,
        skipped: 0,
        failed: 2,
        byDomain: { '127.0.0.1': { successful: 2, total: 4 } },
      });
      expect(output.failedLinks).toEqual([
        { input: `${sites.url}/gone`, reason: `HTTP 404 from ${sites.url}/gone` },
        { input: tooLong, reason: expect.stringContaining('link: Too big') as unknown },
      ]);
      expect(calls.filter((call) => call.state === 'CrawlLink')).toHaveLength(4);
      const start = calls.find((call) => call.state === 'StartFeaturePipeline');
      expect(start?.input).toEqual({
        StateMachineArn: FEATURE_WORKFLOW_ARN,
        Input: { authorIds: [output.authorId] },
      });
      expect((await warehouse.stats()).categories.articles.total).toBe(2);
    });

    it('skips known links on a re-run and then does not start the feature pipeline', async () => {
      const links = [`${sites.url}/p/one`];
      await run({ author: 'Paul Iusztin', links });
      calls = [];

      const output = await run({ author: 'Paul Iusztin', links });

      expect(output).toMatchObject({ inserted: 0, skipped: 1, failed: 0 });
      expect(calls.map((call) => call.state)).toEqual(['StartCollection', 'CrawlLink', 'Summarize']);
    });

    it('leaves the feature pipeline to the caller that asks (the continuous-training workflow)', async () => {
      const output = await run({
        author: 'Paul Iusztin',
        links: [`${sites.url}/p/one`],
        startFeatures: false,
      });
      expect(output).toMatchObject({ inserted: 1 });
      expect(calls.map((call) => call.state)).toEqual(['StartCollection', 'CrawlLink', 'Summarize']);
    });

    it('rejects a request that is not an author config, without retrying or crawling', async () => {
      const execution = run({ author: 'Paul Iusztin', links: [] });
      await expect(execution).rejects.toBeInstanceOf(ExecutionError);
      await expect(execution).rejects.toThrow(/links: must list at least one link/u);
      expect(calls).toHaveLength(1);
    });
  },
);
