import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { TrainingJobRequest } from '../../lambdas/training/plan.js';
import { REPO_ROOT } from './environment.js';

const run = promisify(execFile);

export interface LocalSageMakerOptions {
  /** The jobs' Python (TWIN_TRAINING_PYTHON). */
  python: string;
  /** The folder behind the FolderArtifactStore that stands in for the artifact bucket. */
  artifactsDir: string;
  bucket: string;
  /** Per entry point, what a CPU rehearsal must change: the tiny base model, fp32, a few steps, the judge. */
  overrides: { finetune: Record<string, string>; evaluate: Record<string, string> };
  env?: Record<string, string>;
}

/**
 * What SageMaker does with a CreateTrainingJob request, on this machine: downloads each channel from
 * the (local) bucket into /opt/ml/input/data/<channel>, writes the hyperparameters, runs the job's
 * entry point (`python -m twin_training.<entry>` in the code folder), and uploads /opt/ml/model as
 * models/<job>/output/model.tar.gz. A failed job throws States.TaskFailed with the job's last words.
 */
export async function runTrainingJobLocally(
  request: TrainingJobRequest,
  options: LocalSageMakerOptions,
): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), `twin-sagemaker-${request.TrainingJobName}-`));
  try {
    const keyOf = (uri: string) => uri.replace(`s3://${options.bucket}/`, '');
    for (const input of request.InputDataConfig) {
      if (input.ChannelName === 'code') continue;
      const key = keyOf(input.DataSource.S3DataSource.S3Uri);
      const target = join(root, 'input', 'data', input.ChannelName);
      await mkdir(target, { recursive: true });
      const source = join(options.artifactsDir, key);
      const files = key.endsWith('/') ? (await readdir(source)).map((name) => join(source, name)) : [source];
      for (const file of files) await copyFile(file, join(target, basename(file)));
    }
    const entry = request.AlgorithmSpecification.ContainerArguments[0] ?? 'finetune';
    const metricsKey = entry === 'evaluate' ? keyOf(request.HyperParameters.metrics_s3_uri ?? '') : undefined;
    const hyperparameters = {
      ...request.HyperParameters,
      ...(entry === 'evaluate' ? options.overrides.evaluate : options.overrides.finetune),
      // The local bucket is a folder: the job keeps its metrics in its output, copied there below.
      ...(entry === 'evaluate' ? { metrics_s3_uri: '' } : {}),
    };
    await mkdir(join(root, 'input', 'config'), { recursive: true });
    await writeFile(join(root, 'input', 'config', 'hyperparameters.json'), JSON.stringify(hyperparameters));
    try {
      await run(options.python, ['-m', `twin_training.${entry}`], {
        cwd: join(REPO_ROOT, 'sagemaker'),
        env: {
          ...process.env,
          ...request.Environment,
          ...options.env,
          TWIN_SAGEMAKER_ROOT: root,
          HF_HUB_OFFLINE: '1',
          HF_DATASETS_OFFLINE: '1',
          CUDA_VISIBLE_DEVICES: '',
        },
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      const failed = error as { stderr?: string };
      throw Object.assign(
        new Error(`${request.TrainingJobName} failed: ${(failed.stderr ?? '').slice(-2000)}`),
        { name: 'States.TaskFailed' },
      );
    }
    if (metricsKey !== undefined) {
      await mkdir(dirname(join(options.artifactsDir, metricsKey)), { recursive: true });
      await writeFile(
        join(options.artifactsDir, metricsKey),
        await readFile(join(root, 'output', 'data', 'metrics.json')),
      );
      return;
    }
    const output = join(options.artifactsDir, 'models', request.TrainingJobName, 'output');
    await mkdir(output, { recursive: true });
    await run('tar', ['-czf', join(output, 'model.tar.gz'), '-C', join(root, 'model'), '.']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
