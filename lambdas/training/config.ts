import { z } from 'zod';
import { parseEnvironment } from '../settings/index.js';

/** How the training workflow's SageMaker jobs run; the CDK training stack sets these on its function. */
export interface TrainingJobConfig {
  bucket: string;
  /** Hugging Face PyTorch training container. */
  trainingImage: string;
  /** Hugging Face TGI container, recorded in each registered model package. */
  inferenceImage: string;
  roleArn: string;
  /** The S3 prefix holding sagemaker/ (run.sh and the twin_training package). */
  codeS3Uri: string;
  instanceType: string;
  evaluationInstanceType: string;
  volumeSizeGb: number;
  maxRuntimeSeconds: number;
  /** Managed spot training: cheaper, may be interrupted; checkpoints let it resume. */
  spot: boolean;
  /** With spot, how long to wait for capacity and interruptions in all (at least the runtime). */
  maxWaitSeconds: number;
  modelPackageGroup: string;
  /**
   * A candidate is approved only if the lower bound of the 90% interval on its mean per-row score
   * difference to the approved model is above this.
   */
  approvalMargin: number;
  /** The fewest judged answers the gate accepts (TWIN_GATE_MIN_JUDGED). */
  gateMinJudged: number;
  judgeModel: string;
  hfTokenSecretArn?: string;
  openAiKeySecretArn?: string;
  openAiBaseUrl?: string;
}

const text = z.string().trim().min(1);
const whole = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const EnvSchema = z.object({
  ARTIFACT_BUCKET: text,
  TRAINING_IMAGE: text,
  INFERENCE_IMAGE: text,
  TRAINING_ROLE_ARN: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/u, 'must be an IAM role ARN'),
  TRAINING_CODE_S3_URI: z.string().regex(/^s3:\/\/.+\/$/u, 'must be an s3:// prefix ending in /'),
  TRAINING_INSTANCE_TYPE: z
    .string()
    .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/u, 'must be a SageMaker instance type'),
  EVALUATION_INSTANCE_TYPE: z
    .string()
    .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/u, 'must be a SageMaker instance type'),
  TRAINING_VOLUME_GB: whole(1, 16384).default(100),
  TRAINING_MAX_RUNTIME_SECONDS: whole(60, 28 * 24 * 3600).default(6 * 3600),
  TRAINING_SPOT: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  TRAINING_MAX_WAIT_SECONDS: whole(60, 28 * 24 * 3600).optional(),
  MODEL_PACKAGE_GROUP: z
    .string()
    .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/u, 'must be a model package group name'),
  APPROVAL_MARGIN: z.coerce.number().min(0).max(2).default(0),
  TWIN_GATE_MIN_JUDGED: whole(1, 100_000).default(30),
  JUDGE_MODEL: text.default('gpt-4o-mini'),
  HF_TOKEN_SECRET_ARN: text.optional(),
  OPENAI_API_KEY_SECRET_ARN: text.optional(),
  OPENAI_BASE_URL: z.url().optional(),
});

export function trainingConfigFromEnv(env: NodeJS.ProcessEnv): TrainingJobConfig {
  const values = parseEnvironment(EnvSchema, env);
  return {
    bucket: values.ARTIFACT_BUCKET,
    trainingImage: values.TRAINING_IMAGE,
    inferenceImage: values.INFERENCE_IMAGE,
    roleArn: values.TRAINING_ROLE_ARN,
    codeS3Uri: values.TRAINING_CODE_S3_URI,
    instanceType: values.TRAINING_INSTANCE_TYPE,
    evaluationInstanceType: values.EVALUATION_INSTANCE_TYPE,
    volumeSizeGb: values.TRAINING_VOLUME_GB,
    maxRuntimeSeconds: values.TRAINING_MAX_RUNTIME_SECONDS,
    spot: values.TRAINING_SPOT,
    maxWaitSeconds: Math.max(
      values.TRAINING_MAX_WAIT_SECONDS ?? 2 * values.TRAINING_MAX_RUNTIME_SECONDS,
      values.TRAINING_MAX_RUNTIME_SECONDS,
    ),
    modelPackageGroup: values.MODEL_PACKAGE_GROUP,
    approvalMargin: values.APPROVAL_MARGIN,
    gateMinJudged: values.TWIN_GATE_MIN_JUDGED,
    judgeModel: values.JUDGE_MODEL,
    ...(values.HF_TOKEN_SECRET_ARN ? { hfTokenSecretArn: values.HF_TOKEN_SECRET_ARN } : {}),
    ...(values.OPENAI_API_KEY_SECRET_ARN ? { openAiKeySecretArn: values.OPENAI_API_KEY_SECRET_ARN } : {}),
    ...(values.OPENAI_BASE_URL ? { openAiBaseUrl: values.OPENAI_BASE_URL } : {}),
  };
}
