/**
 * npm run bench:train — the local twin's training on this machine, for the CI model (SmolLM2-135M-
 * Instruct) and Gemma 3 270M (BENCH_GGUF: comma-separated GGUF files instead):
 *   - seconds per optimizer step and tokens per second of `twin train --local` (the SageMaker job
 *     code through TRL), against the same LoRA step in bare PEFT and torch on the same imported
 *     weights and data (test/bench/bare_peft_step.py), as a ratio of tokens per second (>= 0.9 wanted);
 *   - the time from `twin dataset instruct` to the trained twin's first answer (dataset, import,
 *     training, export and checks, `twin models use`, `twin ask`); the dataset is written once, by
 *     the first model (the CI model; a base model like Gemma 3 270M writes no usable request);
 *   - the peak resident memory of the training process and of the bare loop.
 * Medians over the steps of one run (the first step left out). Needs TWIN_TRAINING_PYTHON (or lets
 * the CLI set the environment up) and the reference corpus.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';
import { loadSettings } from '../../lambdas/settings/index.js';
import { datasetManifest } from '../../lambdas/training/dataset-versions.js';
import type { JobProgress } from '../../lambdas/training/local-twin/python.js';
import { trainingPython } from '../../lambdas/training/local-twin/python.js';
import { trainTwinLocally } from '../../lambdas/training/local-twin/train-twin.js';
import { REFERENCE_WAREHOUSE_DIR, REPO_ROOT } from '../support/environment.js';
import { TEST_MODELS_DIR } from '../support/models.js';
import { runTwin } from '../support/twin-cli.js';
import { median } from './stats.js';

const run = promisify(execFile);
const STEPS = Number(process.env.BENCH_STEPS ?? 12);
const BATCH = 2;
const MAX_LENGTH = 256;
const LIMIT = Number(process.env.BENCH_EXTRACTS ?? 24);

const models = process.env.BENCH_GGUF?.split(',') ?? [
  join(TEST_MODELS_DIR, 'writing-eval', 'SmolLM2-135M-Instruct.Q4_1.gguf'),
  join(TEST_MODELS_DIR, 'gguf', 'gemma-3-270m-q4_k_m.gguf'),
];

interface Row {
  model: string;
  jobStepS?: number;
  jobTokensPerS?: number;
  bareStepS?: number;
  bareTokensPerS?: number;
  datasetToAnswerS?: number;
  jobPeakRssMib?: number;
  barePeakRssMib?: number;
  refused?: string;
}

interface Corpus {
  dataDir: string;
  /** Seconds `twin dataset instruct` took, with the first model writing the requests. */
  datasetS: number;
}

const envFor = (gguf: string, python: string) => ({
  TWIN_MODELS_DIR: TEST_MODELS_DIR,
  TWIN_ALLOW_MODEL_DOWNLOAD: 'false',
  TWIN_GENERATOR: 'local',
  TWIN_GENERATOR_GGUF: gguf,
  TWIN_GENERATION_SEED: '0',
  TWIN_GENERATION_MAX_NEW_TOKENS: '32',
  TWIN_QUERY_BACKEND: 'none',
  TWIN_RAG_RERANK: 'false',
  TWIN_TRAINING_PYTHON: python,
});

async function twinIn(dataDir: string, env: Record<string, string>, ...args: string[]) {
  const result = await runTwin(['--data-dir', dataDir, ...args], env);
  if (result.code !== 0)
    throw new Error(`twin ${args.join(' ')}: ${result.stderr.split('\n').slice(-4).join(' ')}`);
  return result;
}

/**
 * One instruction dataset for every model, written by the first (the CI model, instruction-tuned):
 * a base model such as Gemma 3 270M does not write usable requests (curation removes them all).
 */
async function prepareCorpus(writer: string, python: string): Promise<Corpus> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-train-'));
  const env = envFor(writer, python);
  await twinIn(dataDir, env, 'warehouse', 'import', REFERENCE_WAREHOUSE_DIR);
  await twinIn(dataDir, env, 'features');
  const started = performance.now();
  await twinIn(dataDir, env, 'dataset', 'instruct', '--limit', String(LIMIT));
  return { dataDir, datasetS: (performance.now() - started) / 1000 };
}

async function benchModel(gguf: string, python: string, corpus: Corpus): Promise<Row> {
  const model = basename(gguf, '.gguf');
  const { dataDir } = corpus;
  const env = envFor(gguf, python);
  const started = performance.now();
  const settings = loadSettings({ ...process.env, ...env, TWIN_DATA_DIR: dataDir });
  const events: JobProgress[] = [];
  const trained = await trainTwinLocally(
    {
      dataDir,
      artifacts: new FolderArtifactStore(settings.artifactsDir),
      baseGguf: gguf,
      python,
      hyperparameters: {
        max_steps: String(STEPS),
        per_device_train_batch_size: String(BATCH),
        gradient_accumulation_steps: '1',
        max_seq_length: String(MAX_LENGTH),
      },
    },
    (event) => events.push(event),
  );
  await twinIn(dataDir, env, 'models', 'use', trained.lineage.version);
  await twinIn(dataDir, env, 'ask', 'Write a short post about feature pipelines.');
  await twinIn(dataDir, env, 'models', 'use', 'base');
  const datasetToAnswerS = corpus.datasetS + (performance.now() - started) / 1000;

  const steps = events.filter((event) => event.event === 'step');
  const durations = steps.slice(1).map((event, index) => event.elapsed_s - (steps[index]?.elapsed_s ?? 0));
  const tokens = steps.slice(1).map((event, index) => (event.tokens ?? 0) - (steps[index]?.tokens ?? 0));
  const jobStepS = median(durations);
  const jobTokensPerS = median(tokens.map((count, index) => count / (durations[index] ?? 1)));

  const dataset = await datasetManifest(
    new FolderArtifactStore(settings.artifactsDir),
    'instruct',
    undefined,
  );
  const baseFolder = join(dataDir, 'training', 'bases', trained.lineage.base.sha256.slice(0, 16), 'model');
  const { stdout } = await run(
    python,
    [
      join('test', 'bench', 'bare_peft_step.py'),
      baseFolder,
      join(settings.artifactsDir, 'datasets', 'instruct', dataset.version, 'train.jsonl'),
      String(STEPS),
      String(BATCH),
      String(MAX_LENGTH),
    ],
    { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
  );
  const bare = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    median_step_s: number;
    tokens_per_step: number;
    peak_rss_mib: number;
  };
  return {
    model,
    jobStepS,
    jobTokensPerS,
    bareStepS: bare.median_step_s,
    bareTokensPerS: bare.tokens_per_step / bare.median_step_s,
    datasetToAnswerS,
    ...(trained.lineage.training.peakRssMib !== undefined
      ? { jobPeakRssMib: trained.lineage.training.peakRssMib }
      : {}),
    barePeakRssMib: bare.peak_rss_mib,
  };
}

const python = await trainingPython(undefined);
const present = models.filter((gguf) => existsSync(gguf));
const rows: Row[] = models
  .filter((gguf) => !existsSync(gguf))
  .map((gguf) => ({ model: basename(gguf, '.gguf'), refused: `not in the model folder (${gguf})` }));
const writer = present[0];
if (writer) {
  process.stderr.write(`bench:train dataset of ${String(LIMIT)} extracts written by ${basename(writer)}\n`);
  const corpus = await prepareCorpus(writer, python);
  try {
    for (const gguf of present) {
      process.stderr.write(`bench:train ${basename(gguf)}\n`);
      // One model that cannot train is a row of the table, not the end of the benchmark.
      rows.push(
        await benchModel(gguf, python, corpus).catch((error: unknown) => ({
          model: basename(gguf, '.gguf'),
          refused: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
        })),
      );
    }
  } finally {
    await rm(corpus.dataDir, { recursive: true, force: true });
  }
}

const fixed = (value: number | undefined, digits = 2) => (value === undefined ? '–' : value.toFixed(digits));
console.log(
  `\nLoRA r=16 on every projection, batch ${String(BATCH)} x ${String(MAX_LENGTH)} tokens, fp32, ${String(STEPS)} steps (medians, first step left out); one dataset of ${String(LIMIT)} extracts, its requests written by ${writer ? basename(writer, '.gguf') : 'none'}\n`,
);
console.log(
  '| model | s/step (job) | tokens/s (job) | s/step (bare PEFT) | tokens/s (bare PEFT) | job / bare tokens/s | dataset → first answer | peak RSS job / bare |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  if (row.refused) {
    console.log(`| ${row.model} | refused: ${row.refused} | | | | | | |`);
    continue;
  }
  const ratio = row.jobTokensPerS && row.bareTokensPerS ? row.jobTokensPerS / row.bareTokensPerS : undefined;
  console.log(
    `| ${row.model} | ${fixed(row.jobStepS)} | ${fixed(row.jobTokensPerS, 0)} | ${fixed(row.bareStepS)} | ${fixed(row.bareTokensPerS, 0)} | ${fixed(ratio)} | ${fixed(row.datasetToAnswerS, 0)} s | ${fixed(row.jobPeakRssMib, 0)} / ${fixed(row.barePeakRssMib, 0)} MiB |`,
  );
}
