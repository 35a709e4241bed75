import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { describeZodIssues } from '../lambdas/domain/index.js';
import { RERANK_PRECISIONS } from '../lambdas/settings/settings.js';

/** What a new AWS account's Lambda quota often is. */
export const NEW_ACCOUNT_CONCURRENCY = 10;
/** AWS always leaves this many of an account's executions unreserved. */
export const UNRESERVED_MINIMUM = 100;

/** How many executions the account lets functions reserve in all. */
export function reservableConcurrency(config: Pick<StageConfig, 'lambda'>): number {
  return Math.max(0, config.lambda.accountConcurrency - UNRESERVED_MINIMUM);
}

/** What fits a new account's 10 concurrent executions: the values the workflow files carry. */
export const DEFAULT_WORKFLOW_CONCURRENCY = { features: 4, etl: 4, datasets: 2, continuousTraining: 1 };

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
    /**
     * Child executions each workflow's Distributed Map runs at once (README, "Sizing the workflows").
     * Together with API traffic they must fit the account's Lambda quota (the concurrency budget, checked
     * before deploying); the ceilings keep the downstream services within reach: Qdrant's writes
     * (features), the crawled sites (etl: each child crawls one link), the LLM API's rate limit (datasets:
     * each child sends its own concurrent requests) and one ETL workflow per author (continuousTraining).
     */
    concurrency: z
      .strictObject({
        features: z.number().int().min(1).max(200),
        etl: z.number().int().min(1).max(50),
        datasets: z.number().int().min(1).max(20),
        continuousTraining: z.number().int().min(1).max(20),
      })
      .default(DEFAULT_WORKFLOW_CONCURRENCY),
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
    /**
     * Lambda executions set aside for the RAG function: the API keeps its capacity while workflows
     * run. At least burstLimit; only possible where the account's quota leaves AWS its 100 unreserved.
     */
    reservedConcurrency: z.number().int().min(1).optional(),
    /**
     * Conversations (POST /rag conversation_id): days one is kept after it starts, all its turns with it
     * (DynamoDB's TTL), and the turns it may hold before the caller must start a new one.
     */
    conversations: z
      .strictObject({
        retentionDays: z.number().int().min(1).max(3650),
        maxTurns: z.number().int().min(1).max(1000),
      })
      .default({ retentionDays: 30, maxTurns: 50 }),
  }),
  lambda: z
    .strictObject({
      /**
       * The account's Lambda quota of concurrent executions in the region (Service Quotas, "Concurrent
       * executions"). New accounts often start at 10, so that is the default; the concurrency budget
       * (README, "Lambda concurrency") is checked against it.
       */
      accountConcurrency: z.number().int().min(1).default(NEW_ACCOUNT_CONCURRENCY),
    })
    .default({ accountConcurrency: NEW_ACCOUNT_CONCURRENCY }),
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
  const reserved = config.rag.reservedConcurrency;
  if (reserved !== undefined && reserved > reservableConcurrency(config)) {
    throw new Error(
      `${file}: rag.reservedConcurrency (${String(reserved)}) is more than the account can reserve: AWS keeps ${String(UNRESERVED_MINIMUM)} of lambda.accountConcurrency (${String(config.lambda.accountConcurrency)}) unreserved. Remove it, or raise the quota (Service Quotas) and lambda.accountConcurrency with it`,
    );
  }
  if (reserved !== undefined && reserved < config.rag.burstLimit) {
    throw new Error(
      `${file}: rag.reservedConcurrency (${String(reserved)}) is below rag.burstLimit (${String(config.rag.burstLimit)}): a burst the API lets through would be throttled by Lambda`,
    );
  }
  if (config.endpoint.deploy && !config.endpoint.hubModelId) {
    throw new Error(`${file}: endpoint.hubModelId is required when endpoint.deploy is true`);
  }
  return config;
}
