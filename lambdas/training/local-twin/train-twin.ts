import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { sha256Of } from '../../adapters/llm/llama-cpp/gguf-file.js';
import { LocalLlm } from '../../adapters/llm/llama-cpp/local-llm.js';
import { InvalidInputError } from '../../domain/index.js';
import type { HeldOutRequest } from '../../evaluation/writing-set.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { datasetManifest, type ManifestSummary } from '../dataset-versions.js';
import { prepareLocalJob } from '../local-job.js';
import type { LocalGeneratorSettings } from '../../settings/index.js';
import { importBase, llamaCppReference, type ImportedBase } from './base-import.js';
import { heldOutPerplexity } from './held-out-perplexity.js';
import { trainingProgress } from './progress-line.js';
import { runJobModule, type JobProgress } from './python.js';
import { registerTwin, type LocalTwin, type TwinLineage } from './registry.js';

/** LoRA on every projection, rank 16, in fp32 with the plain AdamW: both stages train one of these. */
const LOCAL_LORA: Readonly<Record<string, string>> = {
  adapter_only: 'true',
  load_in_4bit: 'false',
  optim: 'adamw_torch',
  gradient_checkpointing: 'false',
  lora_r: '16',
  lora_alpha: '32',
  lora_dropout: '0.05',
};

/**
 * LoRA SFT settings for a laptop's CPU (the job's own defaults are the book's, for an 8B base on a
 * GPU). Two passes over the data in batches of 8 (2 x 4 accumulated) of up to 512 tokens, which holds
 * a whole extract of the author. Activations are kept (memory is not what a small model on a CPU runs
 * out of; recomputing them costs a third).
 */
export const LOCAL_TWIN_HYPERPARAMETERS: Readonly<Record<string, string>> = {
  ...LOCAL_LORA,
  learning_rate: '0.0002',
  per_device_train_batch_size: '2',
  gradient_accumulation_steps: '4',
  num_train_epochs: '2',
  max_seq_length: '512',
  packing: 'false',
  extra_samples: '0',
  warmup_steps: '5',
  save_steps: '10',
};

/**
 * DPO from the SFT twin, as the book's workflow runs it: one pass, beta 0.5 (the book's: the twin is
 * held close to its SFT self), a learning rate a tenth of SFT's (the book's DPO steps far more gently
 * than its SFT), prompt and completion together up to 512 tokens, batches of 8 pairs.
 */
export const LOCAL_TWIN_DPO_HYPERPARAMETERS: Readonly<Record<string, string>> = {
  ...LOCAL_LORA,
  learning_rate: '0.00002',
  beta: '0.5',
  per_device_train_batch_size: '2',
  gradient_accumulation_steps: '4',
  num_train_epochs: '1',
  max_length: '512',
  warmup_steps: '2',
  save_steps: '10',
};

export interface TrainTwinRequest {
  dataDir: string;
  artifacts: ArtifactStore;
  /** The GGUF the twin is trained on and served with. */
  baseGguf: string;
  python: string;
  instructVersion?: string;
  /** A preference dataset: DPO runs after SFT, from the SFT twin. Absent: SFT alone. */
  preferenceVersion?: string;
  /** Overrides of both stages' settings (job hyperparameter names). */
  hyperparameters: Record<string, string>;
  /** Overrides of one stage's settings, over those of both. */
  stageHyperparameters?: Partial<Record<'sft' | 'dpo', Record<string, string>>>;
  /** Stop with a checkpoint after this many minutes (a re-run continues). */
  minutes?: number;
  /** The writing evaluation's held-out articles: the twin's perplexity on them is measured against the base's. */
  heldOut?: readonly HeldOutRequest[];
}

interface TrainedStage {
  root: string;
  adapterGguf: string;
  adapterSha: string;
  hyperparameters: Record<string, string>;
  servingCheck: number;
  training: TwinLineage['training'];
}

type TwinAdapter = NonNullable<LocalGeneratorSettings['twin']>['adapters'][number];

/**
 * `twin train --local`: the GGUF base imported and checked, LoRA SFT on the instruction dataset with
 * the SageMaker job code, then (with a preference dataset) DPO from the SFT twin; each stage
 * resumable (a run of the same inputs continues from its last checkpoint), its adapter exported as a
 * llama.cpp adapter GGUF and checked as served. Then held-out perplexity of base and twin, and a new
 * version in the local registry with its lineage.
 */
export async function trainTwinLocally(
  request: TrainTwinRequest,
  onProgress: (progress: JobProgress) => void = trainingProgress(),
): Promise<LocalTwin> {
  const base = await importBase(request.baseGguf, request.python, join(request.dataDir, 'training', 'bases'));
  process.stderr.write(
    `Base ${basename(base.gguf)} (${base.check.architecture}): imported, top-1 agreement with llama.cpp ${base.check.top1_agreement.toFixed(3)} over ${String(base.check.positions)} tokens\n`,
  );
  const instruct = await datasetManifest(request.artifacts, 'instruct', request.instructVersion);
  const preference =
    request.preferenceVersion !== undefined
      ? await datasetManifest(request.artifacts, 'preference', request.preferenceVersion)
      : undefined;
  const stage = (
    job: 'sft' | 'dpo',
    dataset: ManifestSummary,
    defaults: Readonly<Record<string, string>>,
    after?: { root: string; adapters: TwinAdapter[]; model: string },
  ) =>
    trainStage(
      request,
      base,
      {
        job,
        dataset,
        hyperparameters: { ...defaults, ...request.hyperparameters, ...request.stageHyperparameters?.[job] },
        after,
      },
      onProgress,
    );

  const sft = await stage('sft', instruct, LOCAL_TWIN_HYPERPARAMETERS);
  const sftAdapter = { file: sft.adapterGguf, sha256: sft.adapterSha };
  let dpo: TrainedStage | undefined;
  if (preference) {
    const merged = join(sft.root, 'sft-merged');
    // Written whole or not at all (renamed into place), and keyed by the SFT run's folder: kept across re-runs.
    if (!existsSync(join(merged, 'config.json'))) {
      process.stderr.write(`Merging the SFT adapter into the base: DPO starts from the SFT twin\n`);
      const mergedRun = await runJobModule(request.python, 'local_twin', [
        'merge',
        '--model',
        base.folder,
        '--adapter',
        join(sft.root, 'model', 'adapter'),
        '--out',
        merged,
      ]);
      if (mergedRun.code !== 0)
        throw new Error(
          `merging the SFT adapter failed (exit ${String(mergedRun.code)}); its output is above`,
        );
    }
    dpo = await stage('dpo', preference, LOCAL_TWIN_DPO_HYPERPARAMETERS, {
      root: sft.root,
      adapters: [sftAdapter],
      model: merged,
    });
  }
  const served = [sftAdapter, ...(dpo ? [{ file: dpo.adapterGguf, sha256: dpo.adapterSha }] : [])];
  const heldOutPerplexityByAuthor = request.heldOut
    ? await comparePerplexity(base.gguf, base.sha256, served, request.heldOut)
    : {};
  const final = dpo ?? sft;
  const version = `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${final.adapterSha.slice(0, 8)}`;
  return registerTwin(
    request.dataDir,
    { sft: sft.adapterGguf, ...(dpo ? { dpo: dpo.adapterGguf } : {}) },
    {
      version,
      createdAt: new Date().toISOString(),
      base: {
        file: base.gguf,
        sha256: base.sha256,
        name: basename(base.gguf, '.gguf'),
        architecture: base.check.architecture,
      },
      importCheck: { top1Agreement: base.check.top1_agreement, positions: base.check.positions },
      servingCheck: { top1Agreement: final.servingCheck },
      datasets: { instruct: instruct.version, ...(preference ? { preference: preference.version } : {}) },
      hyperparameters: sft.hyperparameters,
      training: sft.training,
      ...(dpo ? { preference: { hyperparameters: dpo.hyperparameters, training: dpo.training } } : {}),
      metrics: { heldOutPerplexity: heldOutPerplexityByAuthor },
    },
  );
}

/**
 * One stage: the job run in a folder keyed by everything it depends on (so a re-run resumes from its
 * checkpoint), its adapter exported as GGUF, and llama.cpp serving it (on top of the adapters before
 * it) checked against the trained model.
 */
async function trainStage(
  request: TrainTwinRequest,
  base: ImportedBase,
  plan: {
    job: 'sft' | 'dpo';
    dataset: ManifestSummary;
    hyperparameters: Record<string, string>;
    /** DPO: the SFT stage's folder, its served adapters and its merged model. */
    after?: { root: string; adapters: TwinAdapter[]; model: string } | undefined;
  },
  onProgress: (progress: JobProgress) => void,
): Promise<TrainedStage> {
  const started = performance.now();
  const { job, dataset, hyperparameters, after } = plan;
  const kind = job === 'sft' ? 'instruct' : 'preference';
  const batch =
    Number(hyperparameters.per_device_train_batch_size) * Number(hyperparameters.gradient_accumulation_steps);
  if (dataset.splits && dataset.splits.train < batch) {
    throw new InvalidInputError(
      `${kind} dataset ${dataset.version} has ${String(dataset.splits.train)} training rows, fewer than one batch of ${String(batch)}; generate a larger one (\`twin dataset ${kind}\` without --limit)`,
      kind,
    );
  }
  // Keyed by everything the stage depends on: the same inputs train in the same folder and resume.
  const runKey = createHash('sha256')
    .update(
      JSON.stringify([
        ...(after ? [after.root, job] : [base.sha256]),
        dataset.version,
        Object.entries(hyperparameters).sort(),
      ]),
    )
    .digest('hex')
    .slice(0, 16);
  const root = after
    ? join(after.root, 'dpo', runKey)
    : join(request.dataDir, 'training', 'local-twin', runKey);
  await mkdir(root, { recursive: true });
  const prepared = await prepareLocalJob(
    request.artifacts,
    {
      job,
      dataset: dataset.version,
      baseModel: after?.model ?? base.folder,
      cpu: true,
      hyperparameters: {
        ...hyperparameters,
        ...(request.minutes !== undefined ? { time_budget_minutes: String(request.minutes) } : {}),
      },
    },
    root,
  );
  process.stderr.write(
    `Training LoRA (${job.toUpperCase()}) on ${kind} dataset ${dataset.version} in ${root}\n`,
  );
  const trained = await runJobModule(request.python, 'finetune', [], {
    env: { TWIN_SAGEMAKER_ROOT: prepared.root },
    onProgress,
  });
  if (trained.code !== 0) {
    throw new Error(
      `${job.toUpperCase()} training failed (exit ${String(trained.code)}); its output is above. Run the same command again to resume from the last checkpoint in ${root}`,
    );
  }
  const summary = JSON.parse(await readFile(join(root, 'model', 'twin_training.json'), 'utf8')) as {
    steps: number;
    train_loss: number | null;
    first_loss: number | null;
    last_loss: number | null;
    peak_rss_mib?: number;
  };

  const adapterGguf = join(root, 'adapter.gguf');
  const exported = await runJobModule(request.python, 'local_twin', [
    'export',
    '--adapter',
    join(root, 'model', 'adapter'),
    '--base-gguf',
    base.gguf,
    '--out',
    adapterGguf,
  ]);
  if (exported.code !== 0 || !existsSync(adapterGguf)) {
    throw new Error(
      `exporting the adapter as GGUF failed (exit ${String(exported.code)}); its output is above`,
    );
  }
  const adapterSha = await sha256Of(adapterGguf);
  const servingCheck = await checkServing(request.python, root, base, after?.model ?? base.folder, {
    version: 'candidate',
    adapters: [...(after?.adapters ?? []), { file: adapterGguf, sha256: adapterSha }],
  });
  process.stderr.write(
    `${job.toUpperCase()} adapter GGUF checked: llama.cpp serving it agrees with the trained model on ${servingCheck.toFixed(3)} of the greedy tokens\n`,
  );
  return {
    root,
    adapterGguf,
    adapterSha,
    hyperparameters,
    servingCheck,
    training: {
      steps: summary.steps,
      seconds: Math.round((performance.now() - started) / 1000),
      firstLoss: summary.first_loss,
      lastLoss: summary.last_loss,
      trainLoss: summary.train_loss,
      ...(summary.peak_rss_mib !== undefined ? { peakRssMib: summary.peak_rss_mib } : {}),
    },
  };
}

/** llama.cpp with the exported adapter against the trained PEFT model; refuses an export that does not serve what was trained. */
async function checkServing(
  python: string,
  root: string,
  base: ImportedBase,
  trainedModel: string,
  twin: NonNullable<LocalGeneratorSettings['twin']>,
): Promise<number> {
  const referenceFile = join(root, 'serving-reference.json');
  await writeFile(referenceFile, JSON.stringify(await llamaCppReference(base.gguf, twin)));
  const checked = await runJobModule(python, 'local_twin', [
    'check',
    '--model',
    trainedModel,
    '--adapter',
    join(root, 'model', 'adapter'),
    '--reference',
    referenceFile,
    '--base-agreement',
    String(base.check.top1_agreement),
  ]);
  const share = checked.result?.top1_agreement;
  if (checked.code !== 0 || typeof share !== 'number') {
    throw new Error(
      `the exported adapter does not serve what was trained (its reason is above); nothing was registered`,
    );
  }
  return share;
}

/** Held-out perplexity of the base alone, of SFT alone when DPO followed, and of the twin as served, by author. */
async function comparePerplexity(
  gguf: string,
  sha256: string,
  adapters: TwinAdapter[],
  heldOut: readonly HeldOutRequest[],
): Promise<TwinLineage['metrics']['heldOutPerplexity']> {
  const stacks = adapters.length > 1 ? [[], adapters.slice(0, 1), adapters] : [[], adapters];
  process.stderr.write(
    `Measuring held-out perplexity (${String(heldOut.length)} held-out articles): base${adapters.length > 1 ? ', SFT' : ''} and twin\n`,
  );
  const scores = [];
  for (const stack of stacks) {
    const llm = await LocalLlm.load({
      file: gguf,
      sha256,
      contextSize: 512,
      sequences: 1,
      ...(stack.length > 0 ? { twin: { version: 'candidate', adapters: stack } } : {}),
    });
    try {
      scores.push(await heldOutPerplexity(llm, heldOut));
    } finally {
      await llm.close();
    }
  }
  const base = scores[0] ?? {};
  const twin = scores.at(-1) ?? {};
  const sft = scores.length > 2 ? scores[1] : undefined;
  return Object.fromEntries(
    Object.entries(base).map(([author, score]) => [
      author,
      {
        base: score.perplexity,
        ...(sft ? { sft: sft[author]?.perplexity ?? Number.NaN } : {}),
        twin: twin[author]?.perplexity ?? Number.NaN,
        passages: score.passages,
      },
    ]),
  );
}
