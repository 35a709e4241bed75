import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateModelPackageCommand,
  DescribeModelPackageCommand,
  ListModelPackagesCommand,
  SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderArtifactStore } from '../../lambdas/adapters/artifacts/folder.js';
import { SageMakerModelRegistry } from '../../lambdas/adapters/registry/sagemaker.js';
import { createTrainingHandler } from '../../lambdas/handlers/training.js';
import type { TrainingJobRequest } from '../../lambdas/training/plan.js';
import { TrainingService } from '../../lambdas/training/service.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { runTrainingJobLocally, type LocalSageMakerOptions } from '../support/local-sagemaker.js';
import { FAKE_FUNCTION_ARN, loadDefinition } from '../support/state-machines.js';
import {
  buildRehearsalBase,
  jsonl,
  rehearsalRows,
  startJudgeImitation,
  TRAINING_PYTHON,
  trainingEnvironmentAvailable,
} from '../support/training-rehearsal.js';
import { TEST_TRAINING_CONFIG } from '../support/training.js';

type Json = Parameters<StateMachine['run']>[0];
const ALERTS = 'arn:aws:sns:eu-west-1:123456789012:twin-alerts';
const APPROVED_ARN = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/llm-twin-test/1';
const APPROVED_MODEL = 's3://twin-artifacts/models/twin-approved-dpo/output/model.tar.gz';
const NEW_ARN = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/llm-twin-test/2';

const sagemaker = mockClient(SageMakerClient);

describe('the training workflow (statemachines/training.asl.json) run locally', () => {
  let dir: string;
  let artifacts: FolderArtifactStore;
  let jobs: TrainingJobRequest[];
  let notifications: { Subject: string; Message: string }[];
  let failJob: string | undefined;
  /** When set, SageMaker's part is played by the real job code on this machine (no stand-in). */
  let realJobs: LocalSageMakerOptions | undefined;
  let judged: { accuracy: number | null; style: number | null };
  /** What the judge makes of each test row, for the candidate and the approved model. */
  let verdicts: {
    samples: number;
    candidate: (row: number) => number | null;
    baseline: (row: number) => number | null;
  };

  async function writeManifest(
    kind: string,
    version: string,
    createdAt: string,
    splits = { train: 200, test: 20 },
  ) {
    await artifacts.write(
      `datasets/${kind}/${version}/manifest.json`,
      JSON.stringify({ kind, version, createdAt, splits }),
    );
  }

  function run(input: Json, name = 'run-1') {
    const handler = createTrainingHandler(() =>
      Promise.resolve(
        new TrainingService(
          TEST_TRAINING_CONFIG,
          artifacts,
          new SageMakerModelRegistry(new SageMakerClient({ region: 'eu-west-1' }), {
            group: 'llm-twin-test',
            inferenceImage: TEST_TRAINING_CONFIG.inferenceImage,
            instanceTypes: ['ml.g5.2xlarge'],
          }),
        ),
      ),
    );
    // Stands in for SageMaker running the job; the evaluation job writes its metrics as the Python would.
    const trainingJob = (state: string) => async (input: Json) => {
      const request = input as unknown as TrainingJobRequest;
      jobs.push(request);
      if (state === failJob)
        throw Object.assign(new Error(`${request.TrainingJobName} failed: AlgorithmError`), {
          name: 'States.TaskFailed',
        });
      if (realJobs) {
        await runTrainingJobLocally(request, realJobs);
      } else if (state === 'Evaluate') {
        const key = String(request.HyperParameters.metrics_s3_uri).replace('s3://twin-artifacts/', '');
        const { samples, candidate, baseline } = verdicts;
        const summary = (mean: number | null) => ({
          mean,
          count: mean === null ? 0 : samples,
          missing: mean === null ? samples : 0,
        });
        // The approved model is judged on the same rows only when the job was given its artifact.
        const judgedBaseline = request.InputDataConfig.some((input) => input.ChannelName === 'baseline');
        await artifacts.write(
          key,
          JSON.stringify({
            samples,
            accuracy: summary(judged.accuracy),
            style: summary(judged.style),
            paired: Array.from({ length: samples }, (_, row) => ({
              candidate: candidate(row),
              baseline: judgedBaseline ? baseline(row) : null,
            })),
          }),
        );
      }
      return { TrainingJobName: request.TrainingJobName, TrainingJobStatus: 'Completed' } as Json;
    };
    const notify = (input: Json) => {
      notifications.push(input as unknown as { Subject: string; Message: string });
      return Promise.resolve({ MessageId: 'm' } as Json);
    };
    const machine = new StateMachine(
      loadDefinition('training.asl.json', {
        TrainingFunctionArn: FAKE_FUNCTION_ARN,
        AlertsTopicArn: ALERTS,
      }) as never,
    );
    return machine.run(input, {
      context: {
        Execution: { Name: name, Id: `arn:aws:states:eu-west-1:123456789012:execution:training:${name}` },
      },
      overrides: {
        taskResourceLocalHandlers: {
          PlanRun: async (event: Json) => (await handler(event)) as unknown as Json,
          Register: async (event: Json) => (await handler(event)) as unknown as Json,
          TrainSft: trainingJob('TrainSft'),
          TrainDpo: trainingJob('TrainDpo'),
          Evaluate: trainingJob('Evaluate'),
          NotifyApproved: notify,
          NotifyRejected: notify,
          NotifyFailure: notify,
        },
        retryIntervalOverrides: {
          PlanRun: 0,
          Register: 0,
          TrainSft: 0,
          TrainDpo: 0,
          Evaluate: 0,
          NotifyFailure: 0,
        },
      },
    }).result;
  }

  /** The registry holds an approved model, with its artifact. */
  function approvedModelExists() {
    sagemaker.on(ListModelPackagesCommand, { ModelApprovalStatus: 'Approved' }).resolves({
      ModelPackageSummaryList: [
        {
          ModelPackageArn: APPROVED_ARN,
          ModelPackageStatus: 'Completed',
          CreationTime: new Date(),
          ModelPackageName: 'x',
        },
      ],
    });
    sagemaker.on(DescribeModelPackageCommand).resolves({
      ModelPackageArn: APPROVED_ARN,
      ModelApprovalStatus: 'Approved',
      CustomerMetadataProperties: { judge_accuracy: '2.6', judge_style: '2.3' },
      InferenceSpecification: { Containers: [{ Image: 'tgi', ModelDataUrl: APPROVED_MODEL }] },
    } as never);
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-training-sfn-'));
    artifacts = new FolderArtifactStore(dir);
    jobs = [];
    notifications = [];
    failJob = undefined;
    realJobs = undefined;
    judged = { accuracy: 2.5, style: 2.2 };
    verdicts = { samples: 40, candidate: () => 2.35, baseline: () => 2.45 };
    await writeManifest('instruct', 'aaaa1111', '2026-11-01T00:00:00.000Z');
    await writeManifest('instruct', 'bbbb2222', '2026-11-20T00:00:00.000Z');
    await writeManifest('preference', 'cccc3333', '2026-11-21T00:00:00.000Z');
    sagemaker.reset();
    sagemaker.on(ListModelPackagesCommand).resolves({ ModelPackageSummaryList: [] });
    sagemaker.on(CreateModelPackageCommand).resolves({ ModelPackageArn: NEW_ARN });
    sagemaker.on(UpdateModelPackageCommand).resolves({ ModelPackageArn: NEW_ARN });
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  const approvals = () =>
    sagemaker.commandCalls(UpdateModelPackageCommand).map((call) => call.args[0].input.ModelApprovalStatus);

  it('trains SFT then DPO on the newest datasets, evaluates, registers with lineage and approves the first model', async () => {
    const output = (await run({})) as { registration: { decision: string } };

    expect(jobs.map((job) => job.TrainingJobName)).toEqual([
      'twin-run-1-sft',
      'twin-run-1-dpo',
      'twin-run-1-eval',
    ]);
    const [sft, dpo, evaluation] = jobs;
    const channel = (job: TrainingJobRequest | undefined, name: string) =>
      job?.InputDataConfig.find((input) => input.ChannelName === name)?.DataSource.S3DataSource.S3Uri;
    expect(channel(sft, 'dataset')).toBe('s3://twin-artifacts/datasets/instruct/bbbb2222/');
    expect(channel(dpo, 'dataset')).toBe('s3://twin-artifacts/datasets/preference/cccc3333/');
    expect(channel(dpo, 'base')).toBe('s3://twin-artifacts/models/twin-run-1-sft/output/model.tar.gz');
    expect(channel(evaluation, 'model')).toBe(
      's3://twin-artifacts/models/twin-run-1-dpo/output/model.tar.gz',
    );
    expect(sft?.HyperParameters).toMatchObject({ mode: 'sft', smoke: 'false' });

    expect(output.registration.decision).toBe('approved');
    const created = sagemaker.commandCalls(CreateModelPackageCommand)[0]?.args[0].input;
    expect(created?.ModelPackageGroupName).toBe('llm-twin-test');
    expect(created?.InferenceSpecification?.Containers?.[0]?.ModelDataUrl).toBe(
      's3://twin-artifacts/models/twin-run-1-dpo/output/model.tar.gz',
    );
    expect(created?.CustomerMetadataProperties).toMatchObject({
      dataset_instruct: 'bbbb2222',
      dataset_preference: 'cccc3333',
      base_model: 'meta-llama/Llama-3.1-8B',
      judge_accuracy: '2.5',
      judge_style: '2.2',
      sft_job: 'twin-run-1-sft',
    });
    expect(approvals()).toEqual(['Approved']);
    expect(notifications).toHaveLength(1);
    expect(notifications[0]?.Subject).toBe('LLM Twin: a new model was approved');
    expect(notifications[0]?.Message).toContain(NEW_ARN);
  });

  it.runIf(trainingEnvironmentAvailable() && referenceCorpusAvailable())(
    'runs the real jobs on the CPU, then registers and gates the model on what the real evaluation wrote',
    async () => {
      const base = await buildRehearsalBase(join(dir, 'rehearsal-base'));
      const { pairs, triples } = await rehearsalRows(14);
      for (const [kind, version, rows] of [
        ['instruct', 'dddd4444', pairs],
        ['preference', 'eeee5555', triples],
      ] as const) {
        await artifacts.write(`datasets/${kind}/${version}/train.jsonl`, jsonl(rows.slice(0, 10)));
        await artifacts.write(`datasets/${kind}/${version}/test.jsonl`, jsonl(rows.slice(10)));
        await writeManifest(kind, version, '2026-12-01T00:00:00.000Z', { train: 10, test: 4 });
      }
      const judge = await startJudgeImitation();
      realJobs = {
        python: TRAINING_PYTHON,
        artifactsDir: dir,
        bucket: TEST_TRAINING_CONFIG.bucket,
        overrides: {
          // The plan's 8 B base and GPU settings, swapped for the tiny model on a CPU.
          finetune: {
            base_model: base,
            load_in_4bit: 'false',
            optim: 'adamw_torch',
            max_steps: '2',
            extra_samples: '0',
            max_seq_length: '256',
            max_length: '256',
            gradient_accumulation_steps: '1',
            hf_token_secret_arn: '',
          },
          evaluate: { openai_base_url: `${judge.url}/v1`, openai_key_secret_arn: '', max_tokens: '16' },
        },
        env: { OPENAI_API_KEY: 'test-key' },
      };
      try {
        const output = (await run({})) as { registration: { decision: string } };
        expect(jobs.map((job) => job.TrainingJobName)).toEqual([
          'twin-run-1-sft',
          'twin-run-1-dpo',
          'twin-run-1-eval',
        ]);
        expect(judge.judged).toHaveLength(4);
        const metrics = JSON.parse((await artifacts.read('evaluations/run-1/metrics.json')) ?? '{}') as {
          samples: number;
          accuracy: { mean: number };
        };
        expect(metrics.samples).toBe(4);
        const created = sagemaker.commandCalls(CreateModelPackageCommand)[0]?.args[0].input;
        expect(created?.InferenceSpecification?.Containers?.[0]?.ModelDataUrl).toBe(
          's3://twin-artifacts/models/twin-run-1-dpo/output/model.tar.gz',
        );
        expect(await artifacts.exists('models/twin-run-1-dpo/output/model.tar.gz')).toBe(true);
        expect(created?.CustomerMetadataProperties?.judge_accuracy).toBe(String(metrics.accuracy.mean));
        // Four judged answers are too few to approve anything: the gate says so.
        expect(output.registration.decision).toBe('rejected');
        expect(notifications[0]?.Subject).toMatch(/rejected/iu);
      } finally {
        await judge.close();
      }
    },
    600_000,
  );

  it('rejects a model that does not beat the approved one, and says so', async () => {
    approvedModelExists();
    await run({ instructVersion: 'aaaa1111' });

    expect(jobs[0]?.InputDataConfig[1]?.DataSource.S3DataSource.S3Uri).toBe(
      's3://twin-artifacts/datasets/instruct/aaaa1111/',
    );
    const evaluation = jobs.find((job) => job.TrainingJobName.endsWith('-eval'));
    expect(
      evaluation?.InputDataConfig.find((input) => input.ChannelName === 'baseline')?.DataSource.S3DataSource
        .S3Uri,
    ).toBe(APPROVED_MODEL);
    expect(evaluation?.HyperParameters.baseline_name).toBe(APPROVED_ARN);
    expect(approvals()).toEqual(['Rejected']);
    expect(notifications[0]?.Subject).toBe('LLM Twin: a trained model was rejected');
    expect(notifications[0]?.Message).toContain(
      'does not clearly beat the approved model: mean difference -0.100',
    );
  });

  it('rejects a candidate judged on one answer only, however good', async () => {
    verdicts = { samples: 1, candidate: () => 3, baseline: () => 1 };
    await run({});
    expect(approvals()).toEqual(['Rejected']);
    expect(notifications[0]?.Message).toContain(
      'the candidate has 1 judged answers; the gate needs at least 30',
    );
  });

  it('rejects a candidate whose paired interval straddles the margin, and approves one that wins on it', async () => {
    approvedModelExists();
    verdicts = { samples: 40, candidate: (row) => (row < 21 ? 3 : 1), baseline: () => 2 };
    await run({}, 'run-straddle');
    expect(approvals()).toEqual(['Rejected']);
    expect(notifications[0]?.Message).toContain('mean difference +0.050 over 40 rows, 90% interval [-');

    verdicts = { samples: 40, candidate: (row) => (row % 4 === 0 ? 2 : 2.5), baseline: () => 2 };
    await run({}, 'run-win');
    expect(approvals()).toEqual(['Rejected', 'Approved']);
    const created = sagemaker.commandCalls(CreateModelPackageCommand)[1]?.args[0].input;
    expect(created?.CustomerMetadataProperties).toMatchObject({
      gate_decision: 'approved',
      gate_judged: '40',
      gate_missing: '0',
      gate_pairs: '40',
      gate_mean_difference: '0.375',
      gate_baseline: APPROVED_ARN,
    });
    const [low] = JSON.parse(created?.CustomerMetadataProperties?.gate_interval_90 ?? '[]') as number[];
    expect(low).toBeGreaterThan(0);
  });

  it('notifies and fails when a training job fails, and registers nothing', async () => {
    failJob = 'TrainDpo';
    await expect(run({})).rejects.toBeInstanceOf(ExecutionError);
    expect(jobs.map((job) => job.TrainingJobName)).toEqual(['twin-run-1-sft', 'twin-run-1-dpo']);
    expect(sagemaker.commandCalls(CreateModelPackageCommand)).toHaveLength(0);
    expect(approvals()).toEqual([]);
    expect(notifications).toHaveLength(1);
    expect(notifications[0]?.Subject).toBe('LLM Twin: training failed');
    expect(notifications[0]?.Message).toContain('twin-run-1-dpo failed: AlgorithmError');
  });

  it('never approves a smoke run', async () => {
    await run({ smoke: true });
    expect(jobs[0]?.HyperParameters.smoke).toBe('true');
    expect(approvals()).toEqual(['Rejected']);
    expect(notifications[0]?.Message).toContain('a smoke run is never deployed');
  });

  it('evaluates an existing model without training', async () => {
    await run({
      evaluate: { modelS3Uri: 's3://twin-artifacts/models/old/output/model.tar.gz', name: 'old' },
    });
    expect(jobs.map((job) => job.TrainingJobName)).toEqual(['twin-run-1-eval']);
    expect(approvals()).toEqual(['Approved']);
  });

  it('refuses bad input once, without retrying, and notifies', async () => {
    await expect(run({ instructVersion: 'not-hex' })).rejects.toBeInstanceOf(ExecutionError);
    await expect(run({ instructVersion: 'dddd4444' }, 'run-2')).rejects.toThrow();
    expect(jobs).toHaveLength(0);
    expect(notifications.map((notification) => notification.Message)).toEqual([
      expect.stringContaining('InvalidInputError'),
      expect.stringContaining('no instruct dataset dddd4444'),
    ]);
  });

  it('refuses a dataset too small to train on, naming its version and counts, and trains nothing', async () => {
    await writeManifest('instruct', 'eeee5555', '2026-11-29T00:00:00.000Z', { train: 3, test: 0 });

    await expect(run({}, 'run-small')).rejects.toBeInstanceOf(ExecutionError);

    expect(jobs).toHaveLength(0);
    expect(notifications.at(-1)?.Message).toContain(
      'instruct dataset eeee5555 has 3 train and 0 test rows; training needs at least 10 and 1',
    );
  });
});
