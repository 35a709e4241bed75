import { z } from 'zod';
import { InvalidInputError } from '../domain/index.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { ModelRegistry } from '../ports/model-registry.js';
import type { TrainingJobConfig } from './config.js';
import { datasetManifest } from './dataset-versions.js';
import { gateDecision, type GateDecision, type JudgeScores } from './gate.js';
import { planEvaluation, planTraining, type TrainingPlan } from './plan.js';

const Version = z.string().regex(/^[0-9a-f]{8,64}$/u, 'must be a dataset version (hexadecimal)');
const HyperparameterValues = z.record(
  z.string().regex(/^[a-z_]+$/u),
  z.union([z.string(), z.number(), z.boolean()]),
);

/** The fewest rows a dataset's splits may have for training (and for the judge's test set). */
export const MIN_TRAIN_ROWS = 10;
export const MIN_TEST_ROWS = 1;

/** What starts a training run (the workflow's input). Versions default to the newest datasets. */
export const TrainingInputSchema = z.strictObject({
  instructVersion: Version.optional(),
  preferenceVersion: Version.optional(),
  smoke: z.boolean().default(false),
  baseModel: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/u, 'must be a Hugging Face model id')
    .optional(),
  hyperparameters: z
    .strictObject({ sft: HyperparameterValues.optional(), dpo: HyperparameterValues.optional() })
    .optional(),
  /** Judge an existing model instead of training one. */
  evaluate: z
    .strictObject({
      modelS3Uri: z.string().regex(/^s3:\/\/.+\.tar\.gz$/u, 'must be the s3:// URI of a model.tar.gz'),
      name: z.string().min(1).max(100).default('candidate'),
    })
    .optional(),
});
export type TrainingInput = z.output<typeof TrainingInputSchema>;

const Summary = z.object({ mean: z.number().nullable(), count: z.number(), missing: z.number() });
/** What the evaluation job writes (sagemaker/twin_training/evaluate.py). */
const MetricsSchema = z.object({
  samples: z.number(),
  judge_model: z.string().optional(),
  dataset_version: z.string().optional(),
  accuracy: Summary,
  style: Summary,
  /** The approved model's summary on the same rows, when one was judged beside the candidate. */
  baseline: z
    .object({ model: z.string(), samples: z.number(), accuracy: Summary, style: Summary })
    .optional(),
  /** Per test row, both models' scores (absent in metrics from before paired judging). */
  paired: z
    .array(z.object({ candidate: z.number().nullable(), baseline: z.number().nullable() }))
    .default([]),
  /** Per test row, both models' stylometric similarity with the author (absent before the job measured it). */
  paired_style: z
    .array(z.object({ candidate: z.number().nullable(), baseline: z.number().nullable() }))
    .default([]),
});

/** A candidate may miss at most this share of verdicts (judge errors, unreadable replies). */
const MAX_MISSING_SHARE = 0.1;

export interface Registration {
  decision: 'approved' | 'rejected';
  reason: string;
  /** The gate's counts and, against an approved model, the paired comparison. */
  gate: Omit<GateDecision, 'approve' | 'reason'>;
  modelPackageArn: string;
  scores: JudgeScores & { samples: number; missing: { accuracy: number; style: number } };
  previous: { arn: string; scores: JudgeScores } | null;
}

/** The training workflow's own steps: choose datasets and plan the jobs; register and gate the model. */
export class TrainingService {
  constructor(
    private readonly config: TrainingJobConfig,
    private readonly artifacts: ArtifactStore,
    private readonly registry: ModelRegistry,
  ) {}

  async plan(executionName: string, input: TrainingInput): Promise<TrainingPlan> {
    const instruct = await this.datasetVersion('instruct', input.instructVersion);
    const approved = await this.registry.approved();
    const baseline = approved
      ? { arn: approved.arn, ...(approved.modelS3Uri ? { modelS3Uri: approved.modelS3Uri } : {}) }
      : undefined;
    if (input.evaluate) {
      return planEvaluation(this.config, executionName, {
        datasets: { instruct },
        ...(baseline ? { baseline } : {}),
        modelS3Uri: input.evaluate.modelS3Uri,
        modelName: input.evaluate.name,
        smoke: input.smoke,
      });
    }
    const preference = await this.datasetVersion('preference', input.preferenceVersion);
    return planTraining(this.config, executionName, {
      datasets: { instruct, preference },
      ...(baseline ? { baseline } : {}),
      smoke: input.smoke,
      ...(input.baseModel ? { baseModel: input.baseModel } : {}),
      ...(input.hyperparameters?.sft ? { sftHyperparameters: input.hyperparameters.sft } : {}),
      ...(input.hyperparameters?.dpo ? { dpoHyperparameters: input.hyperparameters.dpo } : {}),
    });
  }

  /** Registers the evaluated model with its lineage, then approves it only if it beats the approved one. */
  async register(plan: TrainingPlan): Promise<Registration> {
    const key = this.keyOf(plan.metricsS3Uri);
    const text = await this.artifacts.read(key);
    if (text === undefined) throw new Error(`the evaluation wrote no metrics at ${plan.metricsS3Uri}`);
    const metrics = MetricsSchema.parse(JSON.parse(text));
    const scores = { accuracy: metrics.accuracy.mean, style: metrics.style.mean };
    const previous = await this.registry.approved();
    const { approve, reason, ...gate } = gateDecision(
      {
        smoke: plan.smoke,
        samples: metrics.samples,
        paired: metrics.paired,
        pairedStyle: metrics.paired_style,
        // Approved when the run was planned (and so judged beside the candidate), or since.
        approvedExists: plan.baseline !== null || previous !== undefined,
      },
      {
        margin: this.config.approvalMargin,
        minJudged: this.config.gateMinJudged,
        maxMissingShare: MAX_MISSING_SHARE,
      },
    );
    const decision = { approve, reason };
    const arn = await this.registry.register({
      modelS3Uri: plan.candidateModelS3Uri,
      metricsS3Uri: plan.metricsS3Uri,
      scores,
      description: `LLM Twin ${plan.sft ? 'SFT+DPO' : 'evaluated'} run ${plan.runId}: ${decision.reason}`,
      metadata: {
        run_id: plan.runId,
        smoke: String(plan.smoke),
        base_model: plan.baseModel,
        dataset_instruct: plan.datasets.instruct ?? '',
        dataset_preference: plan.datasets.preference ?? '',
        sft_job: plan.sft?.TrainingJobName ?? '',
        dpo_job: plan.dpo?.TrainingJobName ?? '',
        evaluation_job: plan.evaluation.TrainingJobName,
        judge_model: this.config.judgeModel,
        judge_samples: String(metrics.samples),
        gate_decision: approve ? 'approved' : 'rejected',
        gate_judged: String(gate.judged),
        gate_missing: String(gate.missing),
        gate_baseline: plan.baseline?.arn ?? '',
        ...(gate.comparison
          ? {
              gate_pairs: String(gate.comparison.pairs),
              gate_mean_difference: String(gate.comparison.meanDifference),
              gate_interval_90: JSON.stringify(gate.comparison.interval),
            }
          : {}),
        sft_hyperparameters: JSON.stringify(plan.hyperparameters.sft ?? {}),
        dpo_hyperparameters: JSON.stringify(plan.hyperparameters.dpo ?? {}),
      },
    });
    await this.registry.decide(arn, decision.approve, decision.reason);
    return {
      decision: decision.approve ? 'approved' : 'rejected',
      reason: decision.reason,
      gate,
      modelPackageArn: arn,
      scores: {
        ...scores,
        samples: metrics.samples,
        missing: { accuracy: metrics.accuracy.missing, style: metrics.style.missing },
      },
      previous: previous ? { arn: previous.arn, scores: previous.scores } : null,
    };
  }

  /**
   * The named version (it must exist), or the newest one by creation time; either way one large
   * enough to learn from and to judge on (MIN_TRAIN_ROWS, MIN_TEST_ROWS), else an error naming it.
   */
  private async datasetVersion(
    kind: 'instruct' | 'preference',
    version: string | undefined,
  ): Promise<string> {
    const chosen = await datasetManifest(this.artifacts, kind, version);
    const train = chosen.splits?.train ?? 0;
    const test = chosen.splits?.test ?? 0;
    if (train < MIN_TRAIN_ROWS || test < MIN_TEST_ROWS) {
      throw new InvalidInputError(
        `${kind} dataset ${chosen.version} has ${String(train)} train and ${String(test)} test rows; training needs at least ` +
          `${String(MIN_TRAIN_ROWS)} and ${String(MIN_TEST_ROWS)}. Build a larger dataset (twin dataset ${kind}) or name another version.`,
        `${kind}Version`,
      );
    }
    return chosen.version;
  }

  private keyOf(uri: string): string {
    const prefix = `s3://${this.config.bucket}/`;
    if (!uri.startsWith(prefix))
      throw new Error(`${uri} is not in the artifact bucket ${this.config.bucket}`);
    return uri.slice(prefix.length);
  }
}
