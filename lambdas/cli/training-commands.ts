import { Command } from 'commander';
import { InvalidInputError } from '../domain/index.js';
import type { Settings } from '../settings/index.js';
import {
  formatModels,
  modelArtifact,
  startCommandFor,
  startTrainingWorkflow,
  trainingInput,
} from '../training/control.js';
import type { TrainingInput } from '../training/service.js';
import { cliSettings, type GlobalOptions } from './context.js';

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

export function trainCommand(globals: () => GlobalOptions): Command {
  return new Command('train')
    .description('fine-tune the twin on SageMaker: SFT, then DPO, then the LLM judge and the deployment gate')
    .option('--instruct <version>', 'instruction dataset version for SFT (default: the newest)')
    .option('--preference <version>', 'preference dataset version for DPO (default: the newest)')
    .option('--base-model <id>', 'Hugging Face base model (default meta-llama/Llama-3.1-8B)')
    .option('--smoke', 'a few steps on a tiny model, to check the pipeline (never deployed)')
    .action(
      async (options: { instruct?: string; preference?: string; baseModel?: string; smoke?: boolean }) => {
        const input = trainingInput({
          ...(options.instruct ? { instructVersion: options.instruct } : {}),
          ...(options.preference ? { preferenceVersion: options.preference } : {}),
          ...(options.baseModel ? { baseModel: options.baseModel } : {}),
          smoke: options.smoke === true,
        });
        await start(await cliSettings(globals()), input, options.smoke ? 'A smoke training run' : 'Training');
      },
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
    .description('the registered twin models with their judge scores and approval status (AWS)')
    .option('--json', 'print them as JSON')
    .action(async (options: { json?: boolean }) => {
      const settings = await cliSettings(globals());
      const group = settings.training.modelPackageGroup;
      if (!(await awsCredentialsAvailable())) {
        console.log(
          `The model registry is on AWS, and no AWS credentials were found. List it with:\n\n  aws sagemaker list-model-packages --model-package-group-name ${group}\n`,
        );
        return;
      }
      const models = await (await registry(settings)).list();
      console.log(options.json ? JSON.stringify(models, null, 2) : formatModels(models));
    });
}
