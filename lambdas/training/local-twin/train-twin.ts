import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { sha256Of } from '../../adapters/llm/llama-cpp/gguf-file.js';
import { LocalLlm } from '../../adapters/llm/llama-cpp/local-llm.js';
import { InvalidInputError } from '../../domain/index.js';
import type { HeldOutRequest } from '../../evaluation/writing-set.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { datasetManifest } from '../dataset-versions.js';
import { prepareLocalJob } from '../local-job.js';
import type { LocalGeneratorSettings } from '../../settings/index.js';
import { importBase, llamaCppReference, type ImportedBase } from './base-import.js';
import { heldOutPerplexity } from './held-out-perplexity.js';
import { trainingProgress } from './progress-line.js';
import { runJobModule, type JobProgress } from './python.js';
import { registerTwin, type LocalTwin, type TwinLineage } from './registry.js';

/**
 * LoRA SFT settings for a laptop's CPU (the job's own defaults are the book's, for an 8B base on a
 * GPU). Rank 16 on every projection; two passes over the data in batches of 8 (2 x 4 accumulated)
 * of up to 512 tokens, which holds a whole extract of the author; fp32, the plain AdamW. Activations
 * are kept (memory is not what a small model on a CPU runs out of; recomputing them costs a third).
 */
export const LOCAL_TWIN_HYPERPARAMETERS: Readonly<Record<string, string>> = {
  adapter_only: 'true',
  load_in_4bit: 'false',
  optim: 'adamw_torch',
  gradient_checkpointing: 'false',
  lora_r: '16',
  lora_alpha: '32',
  lora_dropout: '0.05',
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

export interface TrainTwinRequest {
  dataDir: string;
  artifacts: ArtifactStore;
  /** The GGUF the twin is trained on and served with. */
  baseGguf: string;
  python: string;
  instructVersion?: string;
  /** Overrides of LOCAL_TWIN_HYPERPARAMETERS (job hyperparameter names). */
  hyperparameters: Record<string, string>;
  /** Stop with a checkpoint after this many minutes (a re-run continues). */
  minutes?: number;
  /** The writing evaluation's held-out articles: the twin's perplexity on them is measured against the base's. */
  heldOut?: readonly HeldOutRequest[];
}

/**
 * `twin train --local`: the GGUF base imported and checked, LoRA SFT on the instruction dataset with
 * the SageMaker job code (resumable: a run of the same inputs continues from its last checkpoint),
 * the adapter exported as a llama.cpp adapter GGUF, held-out perplexity of base and twin, and a new
 * version in the local registry with its lineage.
 */
export async function trainTwinLocally(
  request: TrainTwinRequest,
  onProgress: (progress: JobProgress) => void = trainingProgress(),
): Promise<LocalTwin> {
  const started = performance.now();
  const base = await importBase(request.baseGguf, request.python, join(request.dataDir, 'training', 'bases'));
  process.stderr.write(
    `Base ${basename(base.gguf)} (${base.check.architecture}): imported, top-1 agreement with llama.cpp ${base.check.top1_agreement.toFixed(3)} over ${String(base.check.positions)} tokens\n`,
  );
  const dataset = await datasetManifest(request.artifacts, 'instruct', request.instructVersion);
  const hyperparameters = { ...LOCAL_TWIN_HYPERPARAMETERS, ...request.hyperparameters };
  const batch =
    Number(hyperparameters.per_device_train_batch_size) * Number(hyperparameters.gradient_accumulation_steps);
  if (dataset.splits && dataset.splits.train < batch) {
    throw new InvalidInputError(
      `instruct dataset ${dataset.version} has ${String(dataset.splits.train)} training rows, fewer than one batch of ${String(batch)}; generate a larger one (\`twin dataset instruct\` without --limit)`,
      'instruct',
    );
  }
  // The same base, data and settings train in the same folder, so a re-run resumes from its checkpoint.
  const runKey = createHash('sha256')
    .update(JSON.stringify([base.sha256, dataset.version, Object.entries(hyperparameters).sort()]))
    .digest('hex')
    .slice(0, 16);
  const root = join(request.dataDir, 'training', 'local-twin', runKey);
  await mkdir(root, { recursive: true });
  const prepared = await prepareLocalJob(
    request.artifacts,
    {
      job: 'sft',
      dataset: dataset.version,
      baseModel: base.folder,
      cpu: true,
      hyperparameters: {
        ...hyperparameters,
        ...(request.minutes !== undefined ? { time_budget_minutes: String(request.minutes) } : {}),
      },
    },
    root,
  );
  process.stderr.write(`Training LoRA on instruct dataset ${dataset.version} in ${root}\n`);
  const trained = await runJobModule(request.python, 'finetune', [], {
    env: { TWIN_SAGEMAKER_ROOT: prepared.root },
    onProgress,
  });
  if (trained.code !== 0) {
    throw new Error(
      `training failed (exit ${String(trained.code)}); its output is above. Run the same command again to resume from the last checkpoint in ${root}`,
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
  const serving = await checkServing(request.python, root, base, {
    version: 'candidate',
    adapters: [{ file: adapterGguf, sha256: adapterSha }],
  });
  process.stderr.write(
    `Adapter GGUF checked: llama.cpp serving it agrees with the trained model on ${serving.toFixed(3)} of the greedy tokens\n`,
  );
  const heldOutPerplexityByAuthor = request.heldOut
    ? await comparePerplexity(base.gguf, base.sha256, adapterGguf, adapterSha, request.heldOut)
    : {};
  const version = `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${adapterSha.slice(0, 8)}`;
  const lineage: Omit<TwinLineage, 'adapter'> = {
    version,
    createdAt: new Date().toISOString(),
    base: {
      file: base.gguf,
      sha256: base.sha256,
      name: basename(base.gguf, '.gguf'),
      architecture: base.check.architecture,
    },
    importCheck: { top1Agreement: base.check.top1_agreement, positions: base.check.positions },
    servingCheck: { top1Agreement: serving },
    datasets: { instruct: dataset.version },
    hyperparameters,
    training: {
      steps: summary.steps,
      seconds: Math.round((performance.now() - started) / 1000),
      firstLoss: summary.first_loss,
      lastLoss: summary.last_loss,
      trainLoss: summary.train_loss,
      ...(summary.peak_rss_mib !== undefined ? { peakRssMib: summary.peak_rss_mib } : {}),
    },
    metrics: { heldOutPerplexity: heldOutPerplexityByAuthor },
  };
  return registerTwin(request.dataDir, adapterGguf, lineage);
}

/** llama.cpp with the exported adapter against the trained PEFT model; refuses an export that does not serve what was trained. */
async function checkServing(
  python: string,
  root: string,
  base: ImportedBase,
  twin: NonNullable<LocalGeneratorSettings['twin']>,
): Promise<number> {
  const referenceFile = join(root, 'serving-reference.json');
  await writeFile(referenceFile, JSON.stringify(await llamaCppReference(base.gguf, twin)));
  const checked = await runJobModule(python, 'local_twin', [
    'check',
    '--model',
    base.folder,
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

/** Held-out perplexity of the base alone and of the base with the new adapter, by author. */
async function comparePerplexity(
  gguf: string,
  sha256: string,
  adapter: string,
  adapterSha: string,
  heldOut: readonly HeldOutRequest[],
): Promise<TwinLineage['metrics']['heldOutPerplexity']> {
  process.stderr.write(
    `Measuring held-out perplexity (${String(heldOut.length)} held-out articles), base and twin\n`,
  );
  const scores = [];
  for (const twin of [
    undefined,
    { version: 'candidate', adapters: [{ file: adapter, sha256: adapterSha }] },
  ]) {
    const llm = await LocalLlm.load({
      file: gguf,
      sha256,
      contextSize: 512,
      sequences: 1,
      ...(twin ? { twin } : {}),
    });
    try {
      scores.push(await heldOutPerplexity(llm, heldOut));
    } finally {
      await llm.close();
    }
  }
  const [base = {}, twin = {}] = scores;
  return Object.fromEntries(
    Object.entries(base).map(([author, score]) => [
      author,
      { base: score.perplexity, twin: twin[author]?.perplexity ?? Number.NaN, passages: score.passages },
    ]),
  );
}
