import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { describeZodIssues } from '../lambdas/domain/index.js';
import { RERANK_PRECISIONS } from '../lambdas/settings/settings.js';

const InstanceType = z.string().regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/u, 'must be a SageMaker instance type');

/** A stage's settings (configs/stages/<stage>.yaml). CDK context values given on the command line win. */
export const StageConfigSchema = z.strictObject({
  /** Keep the artifact bucket (datasets, models) when the stacks are deleted. */
  keepData: z.boolean(),
  continuousTraining: z.strictObject({ schedule: z.string().min(1) }),
  training: z.strictObject({
    instanceType: InstanceType,
    spot: z.boolean(),
    approvalMargin: z.number().min(0).max(2),
  }),
  endpoint: z.strictObject({
    deploy: z.boolean(),
    hubModelId: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/u, 'must be a Hugging Face model id')
      .optional(),
    instanceType: InstanceType,
    /** 0: the twin scales to zero when idle (hosted as an inference component; wakes in minutes). */
    minInstances: z.number().int().min(0),
    maxInstances: z.number().int().min(1),
    targetInvocationsPerInstance: z.number().positive(),
  }),
  workflows: z.strictObject({
    /**
     * Whether workflow logs carry each state's input and output (author links, dataset summaries,
     * model names). On for debugging in dev; off in prod, where the logs then show states and errors only.
     */
    logExecutionData: z.boolean(),
  }),
  rag: z.strictObject({
    rateLimit: z.number().positive(),
    burstLimit: z.number().int().positive(),
    dailyQuota: z.number().int().positive(),
    /**
     * The cross-encoder's precision in the RAG function (TWIN_RERANK_PRECISION), and the file the
     * image bakes in. Absent: the product's default (fp32; README, Performance, says why).
     */
    rerankPrecision: z.enum(RERANK_PRECISIONS).optional(),
  }),
});
export type StageConfig = z.infer<typeof StageConfigSchema>;

export async function readStageConfig(configsDir: string, stage: string): Promise<StageConfig> {
  const file = join(configsDir, 'stages', `${stage}.yaml`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`no stage config ${file}; stages are the files of configs/stages/ (dev, prod)`);
  }
  const parsed = StageConfigSchema.safeParse(parse(text));
  if (!parsed.success) throw new Error(`${file}: ${describeZodIssues(parsed.error).join('; ')}`);
  const config = parsed.data;
  if (config.endpoint.maxInstances < config.endpoint.minInstances) {
    throw new Error(`${file}: endpoint.maxInstances is below endpoint.minInstances`);
  }
  if (config.endpoint.deploy && !config.endpoint.hubModelId) {
    throw new Error(`${file}: endpoint.hubModelId is required when endpoint.deploy is true`);
  }
  return config;
}
