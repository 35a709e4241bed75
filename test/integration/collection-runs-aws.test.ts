import { mkdtemp, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3RunClaims } from '../../lambdas/adapters/runs/s3-run-claims.js';
import { StepFunctionsCollectionRuns } from '../../lambdas/adapters/runs/step-functions.js';
import { EmbeddedWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import { BrowserSession } from '../../lambdas/collection/crawlers/browser.js';
import { DEFAULT_GIT } from '../../lambdas/collection/environment.js';
import { DEFAULT_LIMITS } from '../../lambdas/collection/http-fetch.js';
import { S3ArtifactStore } from '../../lambdas/adapters/artifacts/s3.js';
import { createCrawlHandler } from '../../lambdas/handlers/crawl.js';
import { RunInProgressError } from '../../lambdas/ports/collection-runs.js';
import { startS3Simulator, startStepFunctionsSimulator } from '../support/aws-simulators.js';
import { substackPage } from '../support/fixture-sites.js';
import { startLoopbackServer } from '../support/http-server.js';
import { FAKE_FUNCTION_ARN, loadDefinition } from '../support/state-machines.js';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:llm-twin-dev-etl';
const network = { allowLoopback: true };

/** Article pages whose answers wait while the site is held: a crawl that takes as long as we say. */
async function startHeldSite() {
  const held: ServerResponse[] = [];
  let holding = true;
  const answer = (response: ServerResponse) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(substackPage('held'));
  };
  const server = await startLoopbackServer((_request, response) => {
    if (holding) held.push(response);
    else answer(response);
  });
  return {
    url: server.url,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const response of held.splice(0)) answer(response);
    },
    close: () => {
      holding = false;
      for (const response of held.splice(0)) answer(response);
      return server.close();
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 20_000) throw new Error('condition not reached in 20 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * One collection run per author on AWS, end to end over real HTTP: the SDK's clients against an S3
 * that implements conditional writes and a Step Functions that runs the ETL workflow's definition in
 * the local runner, with the real crawl handler crawling a loopback site.
 */
describe('one collection run per author on AWS (S3 conditional writes, Step Functions executions)', () => {
  let dir: string;
  let site: Awaited<ReturnType<typeof startHeldSite>>;
  let warehouse: EmbeddedWarehouse;
  let s3: Awaited<ReturnType<typeof startS3Simulator>>;
  let crawlHandler: ReturnType<typeof createCrawlHandler>;
  const environment = {
    network,
    limits: { ...DEFAULT_LIMITS, timeoutMs: 10_000 },
    browser: new BrowserSession({
      executablePath: '/nonexistent/chromium',
      network,
      navigationTimeoutMs: 5_000,
    }),
    git: DEFAULT_GIT,
  };
  const handlers = () => {
    const call = (input: unknown) => crawlHandler(input) as never;
    return { StartCollection: call, CrawlLink: call, Summarize: call, StartFeaturePipeline: () => ({}) };
  };
  const etl = (timeoutSeconds?: number) => {
    const definition = loadDefinition('etl.asl.json', {
      CrawlFunctionArn: FAKE_FUNCTION_ARN,
      FeatureWorkflowArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:features',
      ArtifactBucket: 'artifacts',
    }) as Record<string, unknown>;
    return timeoutSeconds ? { ...definition, TimeoutSeconds: timeoutSeconds } : definition;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-runs-aws-'));
    site = await startHeldSite();
    s3 = await startS3Simulator();
    warehouse = new EmbeddedWarehouse(join(dir, 'warehouse.sqlite'));
    const artifacts = new S3ArtifactStore(s3.client, 'artifacts');
    crawlHandler = createCrawlHandler(() => Promise.resolve({ warehouse, environment, artifacts }));
  });
  afterAll(async () => {
    await site.close();
    await s3.close();
    await warehouse.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('of two starts at once for one author, from two containers, exactly one runs; the other names it', async () => {
    const sfn = await startStepFunctionsSimulator(MACHINE, etl(), handlers(), s3.client);
    // Two Lambda containers: separate clients and adapters, one bucket, one state machine.
    const container = () =>
      new StepFunctionsCollectionRuns(sfn.client, MACHINE, new S3RunClaims(s3.client, 'artifacts'));
    const [first, second] = [container(), container()];
    const ada = { author: 'Ada Lovelace', links: [`${site.url}/p/notes`] };

    const starts = await Promise.allSettled([first.start(ada), second.start(ada), first.start(ada)]);
    const started = starts.filter((start) => start.status === 'fulfilled');
    const refused = starts.filter((start) => start.status === 'rejected');
    expect(started).toHaveLength(1);
    expect(refused).toHaveLength(2);
    const runId = started[0]?.value.id;
    for (const start of refused) {
      expect(start.reason).toBeInstanceOf(RunInProgressError);
      expect((start.reason as RunInProgressError).runId).toBe(runId);
    }
    expect([...sfn.executions.keys()]).toEqual([runId]);

    // The same author spelled differently is the same author; another author is free.
    await expect(second.start({ ...ada, author: '  ada   LOVELACE ' })).rejects.toBeInstanceOf(
      RunInProgressError,
    );
    const grace = await second.start({ author: 'Grace Hopper', links: [`${site.url}/p/cobol`] });
    expect(grace.id).not.toBe(runId);

    await until(() => sfn.executions.size === 2);
    site.release();
    await sfn.settled();
    expect((await first.get(runId ?? ''))?.state).toBe('succeeded');
    const next = await second.start(ada);
    expect(next.id).not.toBe(runId);
    await sfn.settled();
    expect(sfn.executions.get(next.id)?.status).toBe('SUCCEEDED');
    await sfn.close();
  });

  it('a failed run and a timed-out run release their author', async () => {
    const failing = await startStepFunctionsSimulator(MACHINE, etl(), handlers(), s3.client);
    const runs = new StepFunctionsCollectionRuns(
      failing.client,
      MACHINE,
      new S3RunClaims(s3.client, 'artifacts'),
    );
    const failed = await runs.start({ author: 'Barbara Liskov', links: [] }); // the workflow rejects it
    await failing.settled();
    expect((await runs.get(failed.id))?.state).toBe('failed');
    await runs.start({ author: 'Barbara Liskov', links: [`${site.url}/p/abstraction`] });
    await failing.settled();
    await failing.close();

    site.hold();
    const slow = await startStepFunctionsSimulator(MACHINE, etl(1), handlers(), s3.client);
    const timed = new StepFunctionsCollectionRuns(
      slow.client,
      MACHINE,
      new S3RunClaims(s3.client, 'artifacts'),
    );
    const stuck = await timed.start({ author: 'Edsger Dijkstra', links: [`${site.url}/p/goto`] });
    await expect(
      timed.start({ author: 'Edsger Dijkstra', links: [`${site.url}/p/goto`] }),
    ).rejects.toBeInstanceOf(RunInProgressError);
    await slow.settled(); // the workflow's TimeoutSeconds (1 s here) ends it while the page is held
    expect(slow.executions.get(stuck.id)?.status).toBe('TIMED_OUT');
    site.release();
    const after = await timed.start({ author: 'Edsger Dijkstra', links: [`${site.url}/p/goto`] });
    expect(after.id).not.toBe(stuck.id);
    await slow.settled();
    expect(slow.executions.get(after.id)?.status).toBe('SUCCEEDED');
    await slow.close();
  });
});
