import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatTwinPrompt } from '../../lambdas/adapters/llm/twin-prompt.js';
import { UNSET_SECRET_VALUE } from '../../lambdas/settings/settings.js';
import { IN_CI, REPO_ROOT } from '../support/environment.js';

const run = promisify(execFile);
const SAGEMAKER_DIR = join(REPO_ROOT, 'sagemaker');

async function pythonWithPytest(): Promise<boolean> {
  try {
    await run('python3', ['-c', 'import pytest'], { cwd: SAGEMAKER_DIR });
    return true;
  } catch {
    if (IN_CI) throw new Error('python3 with pytest is required in CI for the sagemaker/ tests');
    return false;
  }
}

// The Python that runs inside SageMaker's containers: its pure parts are tested with pytest, and
// every module must at least compile (the heavy imports only happen inside main()).
describe.runIf(await pythonWithPytest())('the SageMaker job code (sagemaker/)', () => {
  it('compiles and passes its own unit tests', async () => {
    await run('python3', ['-m', 'compileall', '-q', 'twin_training', 'tests'], { cwd: SAGEMAKER_DIR });
    const { stdout } = await run('python3', ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests'], {
      cwd: SAGEMAKER_DIR,
    });
    expect(stdout).toMatch(/\d+ passed/u);
    expect(stdout).not.toMatch(/failed|error/u);
  }, 60_000);

  it('knows the placeholder the stacks create secrets with, so a job never sends it as a credential', async () => {
    const { stdout } = await run(
      'python3',
      [
        '-c',
        'import sys; from twin_training.secrets import UNSET_SECRET_VALUE; sys.stdout.write(UNSET_SECRET_VALUE)',
      ],
      { cwd: SAGEMAKER_DIR },
    );
    expect(stdout).toBe(UNSET_SECRET_VALUE);
  });

  it('lays out prompts exactly as the TGI adapter asks the deployed twin', async () => {
    const { stdout } = await run(
      'python3',
      [
        '-c',
        'import sys; from twin_training.formatting import alpaca_prompt; sys.stdout.write(alpaca_prompt(sys.argv[1]))',
        'Write as me.\n\nRequest: RAG',
      ],
      { cwd: SAGEMAKER_DIR },
    );
    expect(stdout).toBe(formatTwinPrompt({ system: 'Write as me.', user: 'Request: RAG' }));
  });
});
