import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../domain/index.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { datasetManifest, type TrainingDatasetKind } from './dataset-versions.js';

/** The SageMaker job code, beside the lambdas in this repository. */
export const JOB_CODE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sagemaker');

export const LOCAL_JOBS = ['sft', 'dpo', 'evaluate'] as const;
export type LocalJob = (typeof LOCAL_JOBS)[number];

export interface LocalJobRequest {
  job: LocalJob;
  /** Dataset version in the artifact store; the newest of the job's kind when absent. */
  dataset?: string;
  /** SFT: the base model (a Hub id or a folder); DPO: a model folder to start from, read in place. */
  baseModel?: string;
  /** DPO: the SFT model to start from; evaluate: the candidate. A merged model folder. */
  model?: string;
  /** Evaluate: the approved model to judge beside the candidate (a merged model folder). */
  baseline?: string;
  /** A CPU: full precision, no 4-bit base, no 8-bit optimizer (both need CUDA). */
  cpu: boolean;
  /** Overrides of the job's hyperparameters (sagemaker/twin_training/hyperparameters.py). */
  hyperparameters: Record<string, string>;
}

export interface PreparedJob {
  /** The job's /opt/ml tree: input/config, input/data/<channel>, model, output. */
  root: string;
  module: 'finetune' | 'evaluate';
}

const DATASET_KIND: Record<LocalJob, TrainingDatasetKind> = {
  sft: 'instruct',
  dpo: 'preference',
  evaluate: 'instruct',
};

/**
 * Lays out a job as SageMaker would hand it over: the hyperparameters, the dataset version copied
 * from the artifact store into the `dataset` channel, and model channels packed as model.tar.gz.
 */
export async function prepareLocalJob(
  artifacts: ArtifactStore,
  request: LocalJobRequest,
  root: string,
): Promise<PreparedJob> {
  const kind = DATASET_KIND[request.job];
  const { version } = await datasetManifest(artifacts, kind, request.dataset);
  // DPO reads its start either from the base channel (an SFT job's model.tar.gz, as on SageMaker) or
  // straight from a model folder on this machine given as the base model (the local twin's merged SFT model).
  const needsModel = request.job === 'evaluate' || (request.job === 'dpo' && !request.baseModel);
  if (needsModel && !request.model) {
    throw new InvalidInputError(
      `${request.job} needs --model <folder>: ${request.job === 'dpo' ? 'the SFT model to start from' : 'the model to judge'}`,
      'model',
    );
  }
  for (const folder of [request.model, request.baseline]) {
    if (folder !== undefined && !existsSync(join(folder, 'config.json'))) {
      throw new InvalidInputError(`${folder} is not a model folder (no config.json)`, 'model');
    }
  }
  const channel = join(root, 'input', 'data');
  await mkdir(join(channel, 'dataset'), { recursive: true });
  for (const file of ['manifest.json', 'train.jsonl', 'test.jsonl']) {
    const body = await artifacts.read(`datasets/${kind}/${version}/${file}`);
    if (body === undefined) {
      throw new Error(`${artifacts.location}/datasets/${kind}/${version} has no ${file}; generate it again`);
    }
    await writeFile(join(channel, 'dataset', file), body);
  }
  const models: Record<string, string | undefined> =
    request.job === 'dpo'
      ? { base: request.model }
      : request.job === 'evaluate'
        ? { model: request.model, baseline: request.baseline }
        : {};
  for (const [name, folder] of Object.entries(models)) {
    if (folder === undefined) continue;
    await mkdir(join(channel, name), { recursive: true });
    await packFolder(folder, join(channel, name, 'model.tar.gz'));
  }
  const cpu =
    request.cpu && request.job !== 'evaluate' ? { load_in_4bit: 'false', optim: 'adamw_torch' } : {};
  const hyperparameters =
    request.job === 'evaluate'
      ? { model_name: request.model ?? '', baseline_name: request.baseline ?? '', ...request.hyperparameters }
      : {
          mode: request.job,
          ...(request.baseModel ? { base_model: request.baseModel } : {}),
          ...cpu,
          ...request.hyperparameters,
        };
  await mkdir(join(root, 'input', 'config'), { recursive: true });
  await writeFile(join(root, 'input', 'config', 'hyperparameters.json'), JSON.stringify(hyperparameters));
  return { root, module: request.job === 'evaluate' ? 'evaluate' : 'finetune' };
}

/** Runs the job's module with `python`, its output on this terminal; resolves with the exit code. */
export function runLocalJob(prepared: PreparedJob, python: string, env: NodeJS.ProcessEnv): Promise<number> {
  return run(python, ['-m', `twin_training.${prepared.module}`], {
    cwd: JOB_CODE,
    env: { ...env, TWIN_SAGEMAKER_ROOT: prepared.root },
  });
}

/** Packs a finished job's model as SageMaker does (model.tar.gz beside the folder), for upload. */
export async function packModel(root: string): Promise<string> {
  const archive = join(root, 'model.tar.gz');
  await packFolder(join(root, 'model'), archive);
  return archive;
}

/** A folder's contents as a gzipped tar, the layout of SageMaker's model.tar.gz. */
async function packFolder(folder: string, archive: string): Promise<void> {
  const code = await run('tar', ['-czf', archive, '-C', folder, '.']);
  if (code !== 0) throw new Error(`could not pack ${folder} (tar exited ${String(code)})`);
}

function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { ...options, stdio: 'inherit' });
    child.once('error', fail);
    child.once('exit', (code) => done(code ?? 1));
  });
}
