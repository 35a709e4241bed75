import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/environment.js';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

/**
 * The GitHub deploy workflow builds CDK's container images as CDK builds them: with the runner's
 * default Docker builder. A buildx docker-container builder set as the default leaves the built image
 * in its own cache, so CDK's `docker tag` / `docker push` of the asset fails.
 */
describe('the deploy workflow (.github/workflows/deploy.yml)', () => {
  it('publishes images with the default builder, and emulates arm64 with QEMU', async () => {
    const workflow = parse(await readFile(join(REPO_ROOT, '.github', 'workflows', 'deploy.yml'), 'utf8')) as {
      jobs: Record<string, { steps: Step[] }>;
    };
    const deploying = Object.entries(workflow.jobs).filter(([, job]) =>
      job.steps.some((step) => step.run?.includes('cdk deploy')),
    );
    expect(deploying.map(([name]) => name)).toEqual(['dev', 'prod']);
    for (const [, job] of deploying) {
      const deployAt = job.steps.findIndex((step) => step.run?.includes('cdk deploy'));
      const before = job.steps.slice(0, deployAt);
      const buildx = before.filter((step) => step.uses?.startsWith('docker/setup-buildx-action'));
      // Allowed only when it leaves the default builder alone (install: false and the docker driver).
      for (const step of buildx) expect(step.with).toMatchObject({ driver: 'docker' });
      expect(before.some((step) => step.uses?.startsWith('docker/setup-qemu-action'))).toBe(true);
    }
  });
});
