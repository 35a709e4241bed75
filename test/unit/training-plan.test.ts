import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { trainingConfigFromEnv } from '../../lambdas/training/config.js';
import {
  formatModels,
  modelArtifact,
  startCommandFor,
  startTrainingWorkflow,
  trainingInput,
} from '../../lambdas/training/control.js';
import { gateDecision } from '../../lambdas/training/gate.js';
import { planEvaluation, planTraining, runIdOf } from '../../lambdas/training/plan.js';
import { TEST_TRAINING_CONFIG } from '../support/training.js';

const datasets = { instruct: 'aaaa1111', preference: 'bbbb2222' };

describe('the training plan', () => {
  const plan = planTraining(TEST_TRAINING_CONFIG, 'nightly-2026-11-28', {
    datasets,
    smoke: false,
    sftHyperparameters: { learning_rate: 1e-4, packing: false },
  });

  it('runs the job code from the code channel on the Hugging Face image, with string hyperparameters', () => {
    expect(plan.sft?.AlgorithmSpecification).toEqual({
      TrainingImage: TEST_TRAINING_CONFIG.trainingImage,
      TrainingInputMode: 'File',
      ContainerEntrypoint: ['bash', '/opt/ml/input/data/code/run.sh'],
      ContainerArguments: ['finetune'],
    });
    expect(plan.sft?.HyperParameters).toEqual({
      mode: 'sft',
      smoke: 'false',
      learning_rate: '0.0001',
      packing: 'false',
      hf_token_secret_arn: TEST_TRAINING_CONFIG.hfTokenSecretArn,
    });
    expect(plan.dpo?.HyperParameters).toMatchObject({ mode: 'dpo', smoke: 'false' });
    expect(plan.evaluation.AlgorithmSpecification.ContainerArguments).toEqual(['evaluate']);
    expect(plan.evaluation.HyperParameters).toMatchObject({
      metrics_s3_uri: 's3://twin-artifacts/evaluations/nightly-2026-11-28/metrics.json',
      judge_model: 'gpt-4o-mini',
      openai_key_secret_arn: TEST_TRAINING_CONFIG.openAiKeySecretArn,
    });
  });

  it('trains on spot capacity with checkpoints in S3 when asked, and on demand otherwise', () => {
    expect(plan.sft).toMatchObject({
      EnableManagedSpotTraining: true,
      StoppingCondition: { MaxRuntimeInSeconds: 21_600, MaxWaitTimeInSeconds: 43_200 },
      CheckpointConfig: {
        S3Uri: 's3://twin-artifacts/checkpoints/twin-nightly-2026-11-28-sft/',
        LocalPath: '/opt/ml/checkpoints',
      },
      ResourceConfig: { InstanceType: 'ml.g5.2xlarge', InstanceCount: 1, VolumeSizeInGB: 100 },
    });
    const onDemand = planTraining({ ...TEST_TRAINING_CONFIG, spot: false }, 'x', { datasets, smoke: false });
    expect(onDemand.sft?.EnableManagedSpotTraining).toBe(false);
    expect(onDemand.sft?.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 21_600 });
  });

  it('names jobs SageMaker accepts, whatever the execution is called', () => {
    const id = runIdOf('My run: 2026/11/28 #3 with a very long name that goes on and on and on');
    expect(id).toMatch(/^[A-Za-z0-9](-*[A-Za-z0-9])*$/u);
    const longest = planTraining(TEST_TRAINING_CONFIG, 'x'.repeat(80), { datasets, smoke: true });
    for (const job of [longest.sft, longest.dpo, longest.evaluation]) {
      expect(job?.TrainingJobName.length).toBeLessThanOrEqual(63);
    }
  });

  it('evaluates an existing model with no training jobs', () => {
    const evaluation = planEvaluation(TEST_TRAINING_CONFIG, 'e1', {
      datasets: { instruct: 'aaaa1111' },
      modelS3Uri: 's3://twin-artifacts/models/old/output/model.tar.gz',
      modelName: 'old',
      smoke: false,
    });
    expect(evaluation.sft).toBeUndefined();
    expect(evaluation.candidateModelS3Uri).toBe('s3://twin-artifacts/models/old/output/model.tar.gz');
  });
});

describe('the deployment gate', () => {
  const policy = { margin: 0, minJudged: 30, maxMissingShare: 0.1 };
  /** n rows whose candidate and baseline scores come from the given functions of the row. */
  const rows = (n: number, candidate: (i: number) => number | null, baseline: (i: number) => number | null) =>
    Array.from({ length: n }, (_, i) => ({ candidate: candidate(i), baseline: baseline(i) }));
  const gate = (paired: ReturnType<typeof rows>, extra: { smoke?: boolean; approvedExists?: boolean } = {}) =>
    gateDecision(
      {
        smoke: extra.smoke ?? false,
        samples: paired.length,
        paired,
        approvedExists: extra.approvedExists ?? true,
      },
      policy,
    );

  it('approves the first model on enough verdicts alone', () => {
    expect(
      gate(
        rows(
          40,
          () => 2,
          () => null,
        ),
        { approvedExists: false },
      ),
    ).toMatchObject({
      approve: true,
      reason: 'first model: mean score 2.000 over 40 answers',
      judged: 40,
      missing: 0,
    });
  });

  it('rejects a candidate judged once, however good, and one missing too many verdicts', () => {
    const once = gate(
      rows(
        1,
        () => 3,
        () => null,
      ),
      { approvedExists: false },
    );
    expect(once).toMatchObject({ approve: false, judged: 1 });
    expect(once.reason).toBe('the candidate has 1 judged answers; the gate needs at least 30');
    const gappy = gate(
      rows(
        40,
        (i) => (i < 34 ? 3 : null),
        () => 1,
      ),
    );
    expect(gappy.approve).toBe(false);
    expect(gappy.reason).toBe('the candidate is missing 6 of 40 verdicts (15%); the gate allows 10%');
  });

  it('approves a candidate that wins row by row, with the interval above the margin', () => {
    const decision = gate(
      rows(
        40,
        (i) => (i % 4 === 0 ? 2 : 2.5),
        () => 2,
      ),
    );
    expect(decision.approve).toBe(true);
    expect(decision.comparison?.pairs).toBe(40);
    expect(decision.comparison?.meanDifference).toBeCloseTo(0.375, 4);
    expect(decision.comparison?.interval[0]).toBeGreaterThan(0);
    expect(decision.reason).toMatch(
      /^beats the approved model: mean difference \+0\.375 over 40 rows, 90% interval \[\+0\.\d{3}, \+0\.\d{3}\]/u,
    );
  });

  it('rejects a candidate whose interval straddles the margin, though its mean is higher', () => {
    // Better on 21 rows by 1, worse on 19 by 1: mean +0.05, interval well across 0.
    const decision = gate(
      rows(
        40,
        (i) => (i < 21 ? 3 : 1),
        () => 2,
      ),
    );
    expect(decision.comparison?.meanDifference).toBeCloseTo(0.05, 4);
    expect(decision.comparison?.interval[0]).toBeLessThan(0);
    expect(decision.approve).toBe(false);
    expect(decision.reason).toMatch(/^does not clearly beat the approved model/u);
  });

  it('rejects when the approved model was not judged on the same rows (nothing to compare with)', () => {
    const decision = gate(
      rows(
        40,
        () => 3,
        () => null,
      ),
    );
    expect(decision.approve).toBe(false);
    expect(decision.reason).toBe(
      'the approved model has 0 judged answers; the gate needs at least 30: the two cannot be compared on these rows',
    );
  });

  it('never approves a smoke run, and decides the same way every time', () => {
    expect(
      gate(
        rows(
          40,
          () => 3,
          () => 1,
        ),
        { smoke: true },
      ).reason,
    ).toBe('a smoke run is never deployed');
    const straddling = rows(
      40,
      (i) => (i % 3 === 0 ? 1 : 2.5),
      () => 2,
    );
    expect(gate(straddling)).toEqual(gate(straddling));
  });

  describe('with the style of the writing measured beside the judge', () => {
    const better = rows(
      40,
      () => 2.6,
      () => 2,
    );
    const withStyle = (candidate: (i: number) => number, baseline: (i: number) => number) =>
      gateDecision(
        {
          smoke: false,
          samples: 40,
          paired: better,
          approvedExists: true,
          pairedStyle: rows(40, candidate, baseline),
        },
        policy,
      );

    it('rejects a candidate the judge prefers when it clearly writes less like the author', () => {
      const decision = withStyle(
        (i) => 0.2 + (i % 4) * 0.005,
        (i) => 0.3 + (i % 4) * 0.005,
      );
      expect(decision.approve).toBe(false);
      expect(decision.reason).toMatch(
        /^writes less like the author than the approved model: style similarity -0\.100 over 40 rows, 90% interval \[-0\.100, -0\.100\], wholly below -0 \(the approval margin\)$/u,
      );
      expect(decision.styleComparison?.pairs).toBe(40);
    });

    it('approves one no worse in style, and reports the style comparison beside the judge', () => {
      const decision = withStyle(
        (i) => (i % 2 === 0 ? 0.28 : 0.32),
        () => 0.3,
      );
      expect(decision.approve).toBe(true);
      expect(decision.styleComparison?.interval[0]).toBeLessThan(0);
      expect(decision.styleComparison?.interval[1]).toBeGreaterThan(0);
    });
  });
});

describe('the training configuration and controls', () => {
  it('names every missing or malformed setting', () => {
    expect(() => trainingConfigFromEnv({ ARTIFACT_BUCKET: 'b', TRAINING_ROLE_ARN: 'role' })).toThrow(
      /TRAINING_IMAGE[\s\S]*TRAINING_ROLE_ARN: must be an IAM role ARN/u,
    );
  });

  it('validates the workflow input before starting it', async () => {
    expect(() => trainingInput({ instructVersion: 'latest' })).toThrow(
      'instructVersion: must be a dataset version (hexadecimal)',
    );
    expect(() => trainingInput({ epochs: 3 })).toThrow(/Unrecognized key/u);
    const sfn = mockClient(SFNClient);
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: 'arn:aws:states:eu-west-1:1:execution:t:e', startDate: new Date() });
    const input = trainingInput({ smoke: true });
    expect(
      await startTrainingWorkflow(
        new SFNClient({ region: 'eu-west-1' }),
        'arn:aws:states:eu-west-1:1:stateMachine:t',
        input,
      ),
    ).toBe('arn:aws:states:eu-west-1:1:execution:t:e');
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input).toBe('{"smoke":true}');
    expect(startCommandFor(undefined, input)).toMatch(
      /^aws stepfunctions start-execution --state-machine-arn <TrainingWorkflowArn/u,
    );
  });
});

describe('the registered models, as twin models shows them', () => {
  const model = {
    arn: 'arn:aws:sagemaker:eu-west-1:1:model-package/llm-twin-dev/3',
    version: 3,
    status: 'Approved' as const,
    createdAt: '2026-11-27T10:00:00.000Z',
    scores: { accuracy: 2.5, style: null },
    metadata: { dataset_instruct: 'aaaa1111', dataset_preference: 'bbbb2222', smoke: 'false' },
    modelS3Uri: 's3://b/models/twin-x-dpo/output/model.tar.gz',
  };

  it('lists version, status, scores (missing ones as -), date and datasets', () => {
    const table = formatModels([
      model,
      { ...model, version: 4, status: 'Rejected', metadata: { ...model.metadata, smoke: 'true' } },
    ]);
    expect(table.split('\n')[1]).toMatch(
      /^3 +Approved +2\.500 +- +2026-11-27T10:00:00\.000Z +aaaa1111\/bbbb2222$/u,
    );
    expect(table.split('\n')[2]).toMatch(/^4 +Rejected .*\(smoke\)$/u);
    expect(formatModels([])).toBe('No models registered yet: run `twin train`.');
  });

  it('finds a package artifact, or takes an S3 URI as given', async () => {
    const registry = { list: () => Promise.resolve([model]) };
    expect(await modelArtifact(registry, model.arn)).toBe(model.modelS3Uri);
    expect(await modelArtifact(registry, 's3://b/other.tar.gz')).toBe('s3://b/other.tar.gz');
    await expect(modelArtifact(registry, `${model.arn}9`)).rejects.toThrow(/no registered model/u);
  });
});
