import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStageConfig } from '../../lib/stage-config.js';
import { REPO_ROOT } from '../support/environment.js';

const CONFIGS = join(REPO_ROOT, 'configs');

describe('stage configs (configs/stages)', () => {
  it('makes dev cheap and disposable, and prod kept, on demand and autoscaled', async () => {
    const dev = await readStageConfig(CONFIGS, 'dev');
    const prod = await readStageConfig(CONFIGS, 'prod');
    expect(dev).toMatchObject({
      keepData: false,
      training: { spot: true },
      // An endpoint deployed in dev scales to zero when idle.
      endpoint: { deploy: false, minInstances: 0 },
      workflows: { logExecutionData: true },
    });
    expect(prod).toMatchObject({
      keepData: true,
      training: { spot: false },
      endpoint: { deploy: true, minInstances: 1, maxInstances: 6, targetInvocationsPerInstance: 5 },
      // Author links and dataset summaries stay out of prod's workflow logs.
      workflows: { logExecutionData: false },
    });
  });

  it('names the file and the field that is wrong', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'twin-stages-'));
    try {
      await mkdir(join(dir, 'stages'));
      const prod = readFile(join(CONFIGS, 'stages', 'prod.yaml'), 'utf8');
      await writeFile(
        join(dir, 'stages', 'bad.yaml'),
        (await prod).replace('instanceType: ml.g5.2xlarge', 'instanceType: g5'),
      );
      await expect(readStageConfig(dir, 'bad')).rejects.toThrow(
        /bad\.yaml: training\.instanceType: must be a SageMaker instance type/u,
      );
      await expect(readStageConfig(dir, 'staging')).rejects.toThrow(/no stage config .*staging\.yaml/u);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses reservations the account cannot grant, and one below the API burst', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'twin-stages-'));
    try {
      await mkdir(join(dir, 'stages'));
      const prod = await readFile(join(CONFIGS, 'stages', 'prod.yaml'), 'utf8');
      await writeFile(
        join(dir, 'stages', 'small.yaml'),
        prod.replace('accountConcurrency: 1000', 'accountConcurrency: 10'),
      );
      await expect(readStageConfig(dir, 'small')).rejects.toThrow(
        /rag\.reservedConcurrency \(20\) is more than the account can reserve: AWS keeps 100 of lambda\.accountConcurrency \(10\)/u,
      );
      await writeFile(
        join(dir, 'stages', 'low.yaml'),
        prod.replace('reservedConcurrency: 20', 'reservedConcurrency: 5'),
      );
      await expect(readStageConfig(dir, 'low')).rejects.toThrow(/below rag\.burstLimit \(20\)/u);
      // A stage that does not say assumes a new account's quota.
      await writeFile(
        join(dir, 'stages', 'plain.yaml'),
        prod
          .replace(/\n {2}reservedConcurrency: 20/u, '')
          .replace(/\nlambda:\n {2}accountConcurrency: 1000/u, ''),
      );
      expect((await readStageConfig(dir, 'plain')).lambda.accountConcurrency).toBe(10);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
