import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { FolderArtifactStore } from '../adapters/artifacts/folder.js';
import { InvalidInputError } from '../domain/index.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { Settings } from '../settings/index.js';
import { datasetManifest } from '../training/dataset-versions.js';
import {
  formatModels,
  modelArtifact,
  startCommandFor,
  startTrainingWorkflow,
  trainingInput,
} from '../training/control.js';
import { LOCAL_JOBS, packModel, prepareLocalJob, runLocalJob, type LocalJob } from '../training/local-job.js';
import type { TrainingInput } from '../training/service.js';
import { HELD_OUT_PER_AUTHOR, writingSetOf } from '../evaluation/held-out.js';
import { stockLocalGenerator } from '../settings/index.js';
import { trainingPython } from '../training/local-twin/python.js';
import { trainTwinLocally, type TrainTwinRequest } from '../training/local-twin/train-twin.js';
import { cliSettings, withWarehouse, type GlobalOptions } from './context.js';
import { listTwins } from '../training/local-twin/registry.js';
import { formatLocalTwins, formatTrainedTwin } from './twin-format.js';
import { wholeNumberOption } from './whole-number.js';

/** True when the AWS SDK finds credentials (environment, profile, SSO, instance role). */
async function awsCredentialsAvailable(): Promise<boolean> {
  try {
    const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
    await fromNodeProviderChain()();
    return true;
  } catch {
    return false;
  }
}

async function registry(settings: Settings) {
  const [{ SageMakerClient }, { SageMakerModelRegistry }] = await Promise.all([
    import('@aws-sdk/client-sagemaker'),
    import('../adapters/registry/sagemaker.js'),
  ]);
  return new SageMakerModelRegistry(new SageMakerClient({}), {
    group: settings.training.modelPackageGroup,
    inferenceImage: '',
    instanceTypes: [],
  });
}

/** Starts the workflow, or says exactly how to when this machine cannot. */
async function start(settings: Settings, input: TrainingInput, what: string): Promise<void> {
  const arn = settings.training.workflowArn;
  const missing = !arn
    ? 'TWIN_TRAINING_WORKFLOW_ARN is not set'
    : !(await awsCredentialsAvailable())
      ? 'no AWS credentials were found'
      : undefined;
  if (missing || !arn) {
    console.log(
      `${what} runs on AWS, and ${missing ?? 'it is not configured'}. Start it with:\n\n  ${startCommandFor(arn, input)}\n`,
    );
    console.log(
      'or from the Step Functions console: open the training workflow, "Start execution", paste the input above.',
    );
    return;
  }
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  const execution = await startTrainingWorkflow(new SFNClient({}), arn, input);
  console.log(`${what} started: ${execution}\nYou will get a notice on the alerts topic when it ends.`);
}

interface TrainOptions {
  instruct?: string;
  preference?: string;
  baseModel?: string;
  smoke?: boolean;
  local?: boolean;
  model?: string;
  baseline?: string;
  cpu?: boolean;
  steps?: string;
  python?: string;
  set?: string[];
  minutes?: string;
  json?: boolean;
  /** `--no-dpo` sets it false. */
  dpo?: boolean;
}

export function trainCommand(globals: () => GlobalOptions): Command {
  return new Command('train')
    .description(
      'fine-tune the twin on SageMaker: SFT, then DPO, then the LLM judge and the deployment gate; or one job on this machine (--local)',
    )
    .argument('[job]', `with --local, the job to run here: ${LOCAL_JOBS.join(', ')}`)
    .option('--instruct <version>', 'instruction dataset version for SFT (default: the newest)')
    .option('--preference <version>', 'preference dataset version for DPO (default: the newest)')
    .option(
      '--base-model <id>',
      "the base model: on SageMaker a Hugging Face id (default meta-llama/Llama-3.1-8B); for the local twin a GGUF file (default: the local generator's model)",
    )
    .option('--smoke', 'a few steps on a tiny model, to check the pipeline (never deployed)')
    .option('--local', 'run the job here with the same code, on a GPU (or a CPU with --cpu)')
    .option('--model <folder>', 'with --local: the model DPO starts from, or the one evaluate judges')
    .option('--baseline <folder>', 'with --local evaluate: the approved model to judge beside it')
    .option('--cpu', 'with --local: no GPU (full precision, no 4-bit base, no 8-bit optimizer)')
    .option('--steps <n>', 'with --local: stop after this many training steps')
    .option(
      '--minutes <n>',
      'with --local (the twin): stop with a checkpoint after this many minutes; the same command again goes on',
    )
    .option('--json', "with --local (the twin): print the new version's lineage as JSON")
    .option(
      '--no-dpo',
      'with --local (the twin): SFT alone, even when a preference dataset exists (by default DPO follows SFT on the newest one)',
    )
    .option(
      '--set <name=value...>',
      'with --local: job hyperparameters (sagemaker/twin_training/hyperparameters.py), e.g. extra_samples=0; for the local twin, sft.<name>=<value> or dpo.<name>=<value> sets one stage only',
    )
    .option(
      '--python <path>',
      'with --local: the Python with the job libraries (default TWIN_TRAINING_PYTHON or python3)',
    )
    .action(async (job: string | undefined, options: TrainOptions) => {
      if (options.local && job === undefined) {
        await trainTwinHere(globals(), options);
        return;
      }
      if (options.local || job !== undefined) {
        await trainLocally(await cliSettings(globals()), job, options);
        return;
      }
      const input = trainingInput({
        ...(options.instruct ? { instructVersion: options.instruct } : {}),
        ...(options.preference ? { preferenceVersion: options.preference } : {}),
        ...(options.baseModel ? { baseModel: options.baseModel } : {}),
        smoke: options.smoke === true,
      });
      await start(await cliSettings(globals()), input, options.smoke ? 'A smoke training run' : 'Training');
    });
}

/** `twin train --local`: the local generator's model trained on the author's writing, registered as a twin. */
async function trainTwinHere(globals: GlobalOptions, options: TrainOptions): Promise<void> {
  const steps =
    options.steps === undefined ? undefined : wholeNumberOption(options.steps, 'steps', 1, 1_000_000);
  const minutes =
    options.minutes === undefined ? undefined : wholeNumberOption(options.minutes, 'minutes', 1, 100_000);
  await withWarehouse(globals, async (warehouse, settings) => {
    const baseGguf = options.baseModel ? resolve(options.baseModel) : stockLocalGenerator(settings)?.file;
    if (!baseGguf) {
      throw new InvalidInputError(
        'no local model to train: `twin models pull --generator` fetches the default, or give --base-model <file.gguf>',
        'base-model',
      );
    }
    const heldOut = await writingSetOf(warehouse, HELD_OUT_PER_AUTHOR).catch((error: unknown) => {
      if (!(error instanceof InvalidInputError)) throw error;
      process.stderr.write(`No held-out perplexity: ${error.message}\n`);
      return undefined;
    });
    const stages = stageSettings(options.set ?? []);
    const twinSettings = {
      ...stages,
      hyperparameters: {
        ...stages.hyperparameters,
        ...(steps !== undefined ? { max_steps: String(steps) } : {}),
      },
    };
    const artifacts = new FolderArtifactStore(settings.artifactsDir);
    const preferenceVersion = await preferenceStage(artifacts, options);
    const python = await trainingPython(options.python);
    const twin = await trainTwinLocally({
      dataDir: settings.dataDir,
      artifacts,
      baseGguf,
      python,
      ...(options.instruct ? { instructVersion: options.instruct } : {}),
      ...(preferenceVersion ? { preferenceVersion } : {}),
      ...twinSettings,
      ...(minutes !== undefined ? { minutes } : {}),
      ...(heldOut ? { heldOut: heldOut.requests } : {}),
    });
    if (options.json) {
      console.log(JSON.stringify(twin.lineage, null, 2));
      return;
    }
    console.log(formatTrainedTwin(twin.lineage));
    console.log(`\nAnswer with it: twin models use ${twin.lineage.version}`);
  });
}

/** The preference dataset DPO trains on after SFT, or undefined (SFT alone), said on the terminal either way. */
async function preferenceStage(artifacts: ArtifactStore, options: TrainOptions): Promise<string | undefined> {
  if (options.dpo === false) {
    process.stderr.write('SFT alone (--no-dpo)\n');
    return undefined;
  }
  try {
    const { version } = await datasetManifest(artifacts, 'preference', options.preference);
    process.stderr.write(`SFT, then DPO from the SFT twin on preference dataset ${version}\n`);
    return version;
  } catch (error) {
    if (options.preference !== undefined || !(error instanceof InvalidInputError)) throw error;
    process.stderr.write(
      'SFT alone: no preference dataset yet (`twin dataset preference` makes one; DPO then follows SFT)\n',
    );
    return undefined;
  }
}

/** `name=value` pairs as hyperparameters; the job itself names any it does not know. */
function hyperparameterSettings(pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const match = /^([a-z_][a-z0-9_.]*)=(.*)$/u.exec(pair);
      if (!match?.[1]) throw new InvalidInputError(`--set ${pair}: expected name=value`, 'set');
      return [match[1], match[2] ?? ''];
    }),
  );
}

/** The local twin's settings: `name=value` for both stages, `sft.name=value` or `dpo.name=value` for one. */
function stageSettings(
  pairs: readonly string[],
): Pick<TrainTwinRequest, 'hyperparameters' | 'stageHyperparameters'> {
  const both: Record<string, string> = {};
  const stages: Record<'sft' | 'dpo', Record<string, string>> = { sft: {}, dpo: {} };
  for (const [name, value] of Object.entries(hyperparameterSettings(pairs))) {
    const [stage, setting] = name.split('.', 2);
    if (setting === undefined) both[name] = value;
    else if (stage === 'sft' || stage === 'dpo') stages[stage][setting] = value;
    else throw new InvalidInputError(`--set ${name}: a stage is sft. or dpo.`, 'set');
  }
  return { hyperparameters: both, stageHyperparameters: stages };
}

/** One job of the training workflow on this machine, in a job folder under the data folder. */
async function trainLocally(
  settings: Settings,
  job: string | undefined,
  options: TrainOptions,
): Promise<void> {
  if (!options.local) throw new InvalidInputError(`${String(job)}: add --local to run one job here`, 'local');
  if (!LOCAL_JOBS.includes(job as LocalJob)) {
    throw new InvalidInputError(`--local runs one job: ${LOCAL_JOBS.join(', ')}`, 'job');
  }
  const steps = options.steps === undefined ? undefined : Number(options.steps);
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) {
    throw new InvalidInputError('--steps must be a whole number of at least 1', 'steps');
  }
  const localJob = job as LocalJob;
  const root = join(
    settings.dataDir,
    'training',
    `${localJob}-${new Date().toISOString().replace(/[:.]/gu, '-')}`,
  );
  const prepared = await prepareLocalJob(
    new FolderArtifactStore(settings.artifactsDir),
    {
      job: localJob,
      ...((localJob === 'dpo' ? options.preference : options.instruct) !== undefined
        ? { dataset: (localJob === 'dpo' ? options.preference : options.instruct) ?? '' }
        : {}),
      ...(options.baseModel ? { baseModel: options.baseModel } : {}),
      ...(options.model ? { model: resolve(options.model) } : {}),
      ...(options.baseline ? { baseline: resolve(options.baseline) } : {}),
      cpu: options.cpu === true,
      hyperparameters: {
        ...hyperparameterSettings(options.set ?? []),
        ...(steps !== undefined && localJob !== 'evaluate' ? { max_steps: String(steps) } : {}),
        ...(options.smoke ? { smoke: 'true' } : {}),
      },
    },
    root,
  );
  process.stderr.write(`Running ${localJob} in ${root}\n`);
  const python = options.python ?? process.env.TWIN_TRAINING_PYTHON ?? 'python3';
  const code = await runLocalJob(prepared, python, process.env);
  if (code !== 0) {
    throw new Error(
      `the ${localJob} job failed (exit ${String(code)}); its output is above, its folder is ${root}`,
    );
  }
  if (localJob === 'evaluate') {
    console.log(`Metrics in ${join(root, 'output', 'data', 'metrics.json')}`);
    return;
  }
  const archive = await packModel(root);
  console.log(`Model in ${join(root, 'model')} (packed as ${archive}).`);
  console.log(
    `Next: \`twin train ${localJob === 'sft' ? 'dpo' : 'evaluate'} --local --model ${join(root, 'model')}\`, or upload ${archive} and \`twin evaluate --model s3://...\`.`,
  );
}

export function evaluateCommand(globals: () => GlobalOptions): Command {
  return new Command('evaluate')
    .description(
      'judge a model (s3:// model.tar.gz or a model package ARN) on the instruction test split, then gate it',
    )
    .requiredOption('--model <uri-or-arn>', 'the model to judge')
    .option(
      '--instruct <version>',
      'instruction dataset version whose test split is used (default: the newest)',
    )
    .action(async (options: { model: string; instruct?: string }) => {
      const settings = await cliSettings(globals());
      if (!options.model.startsWith('s3://') && !options.model.startsWith('arn:')) {
        throw new InvalidInputError('--model must be an s3:// URI or a model package ARN', 'model');
      }
      const modelS3Uri = options.model.startsWith('s3://')
        ? options.model
        : (await awsCredentialsAvailable())
          ? await modelArtifact(await registry(settings), options.model)
          : undefined;
      if (!modelS3Uri) {
        throw new InvalidInputError(
          'a model package ARN is looked up in the registry, which needs AWS credentials; pass the model.tar.gz s3:// URI instead',
          'model',
        );
      }
      const input = trainingInput({
        ...(options.instruct ? { instructVersion: options.instruct } : {}),
        evaluate: { modelS3Uri, name: options.model.split('/').slice(-2).join('/') },
      });
      await start(settings, input, 'Evaluation');
    });
}

export function modelsListCommand(globals: () => GlobalOptions): Command {
  return new Command('list')
    .description(
      "the twins: local ones (trained with `twin train --local`; * marks the one answering) and the cloud registry's, with their judge scores and approval status (AWS)",
    )
    .option('--json', 'print them as JSON')
    .action(async (options: { json?: boolean }) => {
      const settings = await cliSettings(globals());
      const local = await listTwins(settings.dataDir);
      const group = settings.training.modelPackageGroup;
      const cloud = (await awsCredentialsAvailable()) ? await (await registry(settings)).list() : undefined;
      if (options.json) {
        console.log(
          JSON.stringify(
            { local: local.map((twin) => ({ ...twin.lineage, active: twin.active })), cloud: cloud ?? null },
            null,
            2,
          ),
        );
        return;
      }
      console.log(`Local twins (${settings.dataDir}/twins):\n${formatLocalTwins(local)}\n`);
      if (!cloud) {
        console.log(
          `The cloud registry is on AWS, and no AWS credentials were found. List it with:\n\n  aws sagemaker list-model-packages --model-package-group-name ${group}\n`,
        );
        return;
      }
      console.log(`Cloud registry (${group}):\n${formatModels(cloud)}`);
    });
}
