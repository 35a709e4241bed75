import { readActiveTwin, type ActiveTwin } from './active-twin.js';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_FUSION,
  DEFAULT_FUSION_ALPHA,
  DEFAULT_FUSION_K,
  FUSION_KINDS,
  InvalidInputError,
  RETRIEVAL_MODES,
  type FusionKind,
  type RetrievalMode,
} from '../domain/index.js';
import { defaultDataDir } from './data-dir.js';
import { DEFAULT_LOCAL_GENERATOR, findLocalModel, localModelFile } from './local-model.js';

/**
 * Secrets can be given directly (a laptop's environment or .env) or, on AWS, as the ARN of a
 * Secrets Manager secret in `<NAME>_SECRET_ARN`, resolved once per container by resolveSecrets().
 * Lambda environments only ever hold the ARNs.
 */
export const SECRET_SETTINGS = [
  'MONGODB_URI',
  'QDRANT_URL',
  'QDRANT_API_KEY',
  'OPENAI_API_KEY',
  'HF_TOKEN',
  'OPIK_API_KEY',
  'LINKEDIN_USERNAME',
  'LINKEDIN_PASSWORD',
] as const;
export type SecretSetting = (typeof SECRET_SETTINGS)[number];

/**
 * The value the stacks create each secret with. A secret that still holds it has not been set: it reads
 * as absent, and a function that needs it fails at start-up naming it (never runs on a made-up value).
 * sagemaker/twin_training/secrets.py knows the same value.
 */
export const UNSET_SECRET_VALUE = 'llm-twin: not set yet';

/** The command that sets a secret, for error messages. */
export const setSecretCommand = (arn: string) =>
  `aws secretsmanager put-secret-value --secret-id ${arn} --secret-string '...'`;

export const DEFAULT_EMBEDDING_MODEL_ID = 'sentence-transformers/all-MiniLM-L6-v2';

/** SageMaker's rule for endpoint and inference component names. */
const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export const DEFAULT_RERANK_MODEL_ID = 'cross-encoder/ms-marco-MiniLM-L-4-v2';

/** The cross-encoder's weights: 8-bit integers (dynamically quantised) or the original 32-bit floats. */
export const RERANK_PRECISIONS = ['int8', 'fp32'] as const;
export type RerankPrecision = (typeof RERANK_PRECISIONS)[number];
/**
 * fp32 until int8 is shown to rank as fp32 does: `npm run bench:rag` measures their agreement on the
 * dev questions' candidates, and int8 becomes the default only at a top-9 overlap of 0.9 and a
 * Spearman correlation of 0.95 or more. On the stand-in cross-encoder it reaches 0.93 (README,
 * Performance), so int8 is opt-in.
 */
export const DEFAULT_RERANK_PRECISION: RerankPrecision = 'fp32';
/**
 * Candidates the cross-encoder reads, the best after fusion. Its cost grows with each one; twenty
 * leave it room to lift a chunk from well below the default top 9 while keeping a query's rerank
 * within its latency budget on two vCPUs (README, Performance).
 */
export const DEFAULT_RERANK_CANDIDATES = 20;
/**
 * Tokens of one (query, chunk) pair the cross-encoder reads: by default the model's whole window, so
 * that it judges the chunk the reader will be shown. It reads the chunk as written, which tokenizes
 * longer than the cleaned text the embedder read (links and markup): on the dev questions' candidates
 * a cap of 320 cut 41% of the pairs, 512 cuts 0.2%, for 4% more tokens (README, Performance). A lower
 * cap trades the end of long chunks for speed on slow machines.
 */
export const DEFAULT_RERANK_MAX_TOKENS = 512;

const HF_MODEL_ID = /^[\w.-]+(\/[\w.-]+)?$/;

const optionalText = z.string().trim().min(1).optional();
/** A GGUF file on the Hugging Face Hub, as node-llama-cpp writes it: hf:owner/repo/path/to/file.gguf. */
const HUB_GGUF = /^hf:[\w.-]+\/[\w.-]+\/[\w./-]+\.gguf$/u;
const secretArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
    'must be a Secrets Manager secret ARN',
  )
  .optional();

/** A numeric setting read from text, with its allowed range in the error message. */
function numberSetting(min: number, max: number, fallback: number) {
  const message = `must be a number from ${String(min)} to ${String(max)}`;
  return z.coerce.number({ error: message }).min(min, message).max(max, message).default(fallback);
}

function booleanSetting(fallback: boolean) {
  return z
    .enum(['true', 'false'], { error: 'must be "true" or "false"' })
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true');
}

function wholeNumber(min: number, max: number) {
  const message = `must be a whole number from ${String(min)} to ${String(max)}`;
  return z.coerce.number({ error: message }).int(message).min(min, message).max(max, message);
}

function wholeNumberSetting(min: number, max: number, fallback: number) {
  return wholeNumber(min, max).default(fallback);
}

const EnvSchema = z.object({
  TWIN_DATA_DIR: optionalText,
  TWIN_WAREHOUSE: z
    .enum(['embedded', 'mongodb'], { error: 'must be "embedded" (local default) or "mongodb"' })
    .default('embedded'),
  MONGODB_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be 1-63 letters, digits, "_" or "-"')
    .default('twin'),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must start with mongodb:// or mongodb+srv://')
    .optional(),
  QDRANT_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  OPENAI_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  QDRANT_API_KEY: optionalText,
  OPENAI_API_KEY: optionalText,
  HF_TOKEN: optionalText,
  OPIK_API_KEY: optionalText,
  LINKEDIN_USERNAME: optionalText,
  LINKEDIN_PASSWORD: optionalText,
  ...Object.fromEntries(SECRET_SETTINGS.map((name) => [`${name}_SECRET_ARN`, secretArn])),
  TWIN_VECTOR_STORE: z
    .enum(['embedded', 'qdrant'], { error: 'must be "embedded" (local default) or "qdrant"' })
    .default('embedded'),
  TWIN_EMBEDDING_MODEL_ID: z
    .string()
    .regex(HF_MODEL_ID, 'must be a Hugging Face model id such as sentence-transformers/all-MiniLM-L6-v2')
    .default(DEFAULT_EMBEDDING_MODEL_ID),
  TWIN_MODELS_DIR: optionalText,
  TWIN_ALLOW_MODEL_DOWNLOAD: booleanSetting(true),
  TWIN_EMBEDDING_BATCH_SIZE: wholeNumberSetting(1, 256, 32),
  TWIN_CHROMIUM_PATH: optionalText,
  TWIN_CRAWL_CONCURRENCY: wholeNumberSetting(1, 16, 4),
  TWIN_DATASET_MODEL: z.string().trim().min(1).default('gpt-4o-mini'),
  TWIN_DATASET_TEMPERATURE: numberSetting(0, 2, 0.7),
  TWIN_DATASET_MAX_TOKENS: wholeNumberSetting(64, 16384, 1200),
  TWIN_DATASET_CONCURRENCY: wholeNumberSetting(1, 64, 4),
  TWIN_DATASET_DEDUP_THRESHOLD: numberSetting(0.5, 1, 0.8),
  TWIN_DATASET_MAX_FAILURE_RATE: numberSetting(0, 1, 0.1),
  TWIN_DATASET_MIN_SAMPLES: wholeNumberSetting(1, 1_000_000, 10),
  TWIN_LLM_TIMEOUT_MS: wholeNumberSetting(1000, 600000, 60000),
  TWIN_LLM_MAX_RETRIES: wholeNumberSetting(0, 10, 4),
  TWIN_LLM_PRICE_INPUT_PER_MTOK: numberSetting(0, 1000, 0.15),
  TWIN_LLM_PRICE_OUTPUT_PER_MTOK: numberSetting(0, 1000, 0.6),
  TWIN_ARTIFACTS_DIR: optionalText,
  TWIN_CONVERSATION_TTL_DAYS: wholeNumberSetting(1, 3650, 30),
  TWIN_CONVERSATION_MAX_TURNS: wholeNumberSetting(1, 1000, 50),
  /** The DynamoDB table of conversations (the RAG stack sets it); the embedded file otherwise. */
  CONVERSATIONS_TABLE: optionalText,
  TWIN_RAG_K: wholeNumberSetting(1, 50, 9),
  TWIN_RAG_EXPAND: booleanSetting(true),
  TWIN_RAG_QUERIES: wholeNumberSetting(1, 10, 3),
  TWIN_RAG_RERANK: booleanSetting(true),
  TWIN_COLLECTION_PREFIX: z
    .string()
    .trim()
    .regex(/^[a-z0-9_-]{1,40}$/u, 'must be 1 to 40 lower-case letters, digits, _ or -')
    .optional(),
  TWIN_RAG_MODE: z
    .enum(RETRIEVAL_MODES, { error: `must be one of ${RETRIEVAL_MODES.join(', ')}` })
    .default('hybrid'),
  TWIN_RAG_FUSION: z
    .enum(FUSION_KINDS, { error: `must be one of ${FUSION_KINDS.join(', ')}` })
    .default(DEFAULT_FUSION),
  TWIN_RAG_FUSION_K: wholeNumberSetting(1, 1000, DEFAULT_FUSION_K),
  TWIN_RAG_FUSION_ALPHA: numberSetting(0, 1, DEFAULT_FUSION_ALPHA),
  TWIN_RERANK_MODEL_ID: z
    .string()
    .regex(HF_MODEL_ID, 'must be a Hugging Face model id such as cross-encoder/ms-marco-MiniLM-L-4-v2')
    .default(DEFAULT_RERANK_MODEL_ID),
  TWIN_RERANK_PRECISION: z
    .enum(RERANK_PRECISIONS, { error: `must be one of ${RERANK_PRECISIONS.join(', ')}` })
    .default(DEFAULT_RERANK_PRECISION),
  TWIN_RERANK_CANDIDATES: wholeNumberSetting(1, 500, DEFAULT_RERANK_CANDIDATES),
  TWIN_RERANK_MAX_TOKENS: wholeNumberSetting(32, 512, DEFAULT_RERANK_MAX_TOKENS),
  TWIN_RAG_MAX_QUERY_CHARS: wholeNumberSetting(100, 20000, 2000),
  TWIN_QUERY_MODEL: z.string().trim().min(1).default('gpt-4o-mini'),
  TWIN_GENERATOR: z
    .enum(['auto', 'local', 'openai', 'sagemaker', 'none'], {
      error: 'must be one of auto, local, openai, sagemaker, none',
    })
    .default('auto'),
  /** The local model: a GGUF file, or `hf:owner/repo/file.gguf` on the Hugging Face Hub. */
  TWIN_GENERATOR_GGUF: z
    .string()
    .trim()
    .min(1)
    .refine((value) => !value.startsWith('hf:') || HUB_GGUF.test(value), {
      error: 'a Hub model must be written hf:owner/repo/file.gguf',
    })
    .optional(),
  TWIN_GENERATOR_GGUF_SHA256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/u, 'must be a sha256 digest (64 hex digits)')
    .transform((value) => value.toLowerCase())
    .optional(),
  TWIN_GENERATOR_CONTEXT: wholeNumberSetting(512, 131072, 4096),
  TWIN_GENERATOR_SEQUENCES: wholeNumberSetting(1, 16, 2),
  TWIN_GENERATOR_THREADS: wholeNumber(1, 256).optional(),
  /** How prompts are laid out for the local model: its chat template when it has one (auto), or forced. */
  TWIN_GENERATOR_PROMPT_LAYOUT: z
    .enum(['auto', 'chat', 'alpaca'], { error: 'must be one of auto, chat, alpaca' })
    .default('auto'),
  TWIN_QUERY_BACKEND: z
    .enum(['auto', 'local', 'openai', 'none'], { error: 'must be one of auto, local, openai, none' })
    .default('auto'),
  TWIN_GENERATOR_MODEL: z.string().trim().min(1).default('gpt-4o-mini'),
  TWIN_GENERATOR_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  TWIN_SAGEMAKER_ENDPOINT: z.string().regex(SAGEMAKER_NAME, 'must be a SageMaker endpoint name').optional(),
  /** The twin's inference component on that endpoint, when it is hosted as one (scale to zero). */
  TWIN_SAGEMAKER_INFERENCE_COMPONENT: z
    .string()
    .regex(SAGEMAKER_NAME, 'must be a SageMaker inference component name')
    .optional(),
  TWIN_GENERATION_MAX_NEW_TOKENS: wholeNumberSetting(1, 4096, 150),
  TWIN_GENERATION_TEMPERATURE: numberSetting(0, 2, 0.01),
  TWIN_GENERATION_TOP_P: numberSetting(0.01, 1, 0.9),
  TWIN_GENERATION_REPETITION_PENALTY: numberSetting(1, 2, 1.1),
  /** The local model's sampling seed: the same request, the same answer (evaluations); random when unset. */
  TWIN_GENERATION_SEED: wholeNumber(0, 2 ** 31 - 1).optional(),
  TWIN_GENERATION_MAX_INPUT_TOKENS: wholeNumber(256, 131072).optional(),
  TWIN_GENERATION_TIMEOUT_MS: wholeNumber(1000, 600000).optional(),
  TWIN_TRAINING_WORKFLOW_ARN: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:.+$/u,
      'must be a Step Functions state machine ARN',
    )
    .optional(),
  TWIN_MODEL_PACKAGE_GROUP: z
    .string()
    .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/u, 'must be a model package group name')
    .default('llm-twin-dev'),
  HF_ENDPOINT: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .default('https://huggingface.co'),
  TWIN_CORS_ORIGINS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.union([
          z.literal('*'),
          z.url({ protocol: /^https?$/, error: 'each origin must be an http(s) URL or *' }),
        ]),
      ),
    )
    .default([]),
  OPIK_URL_OVERRIDE: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  OPIK_WORKSPACE: optionalText,
  OPIK_PROJECT_NAME: z.string().trim().min(1).default('llm-twin'),
  TWIN_LOG_LEVEL: z
    .enum(['debug', 'info', 'warn', 'error'], { error: 'must be one of debug, info, warn, error' })
    .default('info'),
});

type Env = z.infer<typeof EnvSchema>;

/** Every environment variable the settings read (documented in .env.example). */
export const SETTING_NAMES = Object.keys(EnvSchema.shape);

export interface EmbeddingSettings {
  modelId: string;
  /** Local model folder (`<dir>/<model id>/onnx/model.onnx`), searched before any download. */
  modelsDir: string;
  /** When false, models must already be in `modelsDir` (air-gapped machines, Lambda images, CI). */
  allowDownload: boolean;
  batchSize: number;
}

export interface CrawlSettings {
  /** A local Chromium for pages that need a browser; found on the usual paths when unset. */
  chromiumPath?: string;
  concurrency: number;
}

export interface DatasetSettings {
  model: string;
  temperature: number;
  maxTokens: number;
  concurrency: number;
  /** Instructions at least this similar (estimated Jaccard of word shingles) are near-duplicates. */
  dedupThreshold: number;
  /** A generation whose failed and malformed requests exceed this share of all requests fails. */
  maxFailureRate: number;
  /** A dataset with fewer rows (train and test) after curation is not written. */
  minSamples: number;
  /** Per request, and how often a 429 or 5xx is retried (exponential backoff, Retry-After honoured). */
  timeoutMs: number;
  maxRetries: number;
  /** US dollars per million tokens, for the cost estimate. */
  pricePerMillionInput: number;
  pricePerMillionOutput: number;
}

export interface RetrievalSettings {
  /** Chunks kept for the prompt. */
  k: number;
  /** Query expansion, and how many queries in all (the original first). */
  expand: boolean;
  queries: number;
  rerank: boolean;
  /** How chunks are searched: dense and keyword fused (hybrid), or one of them alone. */
  mode: RetrievalMode;
  /** How hybrid search fuses its two lists: by rank (rrf) or by normalised scores (convex). */
  fusion: FusionKind;
  /**
   * Reciprocal rank fusion's k for hybrid search; also how keyword results of the three collections
   * are merged (by rank: BM25 scores do not compare across collections).
   */
  fusionK: number;
  /** Convex fusion's weight of the dense score (the keyword score weighs 1 - alpha). */
  fusionAlpha: number;
  rerankModelId: string;
  rerankPrecision: RerankPrecision;
  /** How many of the best candidates after fusion the cross-encoder reads. */
  rerankCandidates: number;
  /** The longest (query, chunk) pair the cross-encoder reads, in tokens; the chunk is cut. */
  rerankMaxTokens: number;
  maxQueryChars: number;
  /** The OpenAI-compatible model for self-query and expansion (at OPENAI_BASE_URL). */
  queryModel: string;
  /**
   * Which model does self-query and expansion. `auto`: the OpenAI-compatible one when configured,
   * else the local generator when it is instruction-tuned, else none (the name matcher decides).
   */
  queryBackend: Env['TWIN_QUERY_BACKEND'];
}

export type GeneratorSettings = {
  maxNewTokens: number;
  temperature: number;
  topP: number;
  repetitionPenalty: number;
  /** The twin model's input budget in tokens (TGI's MAX_INPUT_LENGTH). */
  maxInputTokens: number;
  timeoutMs: number;
} & (
  | { kind: 'none' }
  | { kind: 'openai'; model: string; baseUrl?: string }
  | { kind: 'sagemaker'; endpointName: string; inferenceComponentName?: string }
  | ({ kind: 'local' } & LocalGeneratorSettings)
);

/** A GGUF model run in process by llama.cpp (the offline default when one is in the model folder). */
export interface LocalGeneratorSettings {
  /** Where the GGUF file is, or will be once `twin models pull --generator` fetches it. */
  file: string;
  /** Set when the model comes from the Hugging Face Hub (TWIN_GENERATOR_GGUF=hf:owner/repo/file). */
  hub?: { repo: string; path: string };
  /** Checked at start-up when given. */
  sha256?: string;
  /** Tokens the model reads and writes per request (KV cache per sequence). */
  contextSize: number;
  /** Requests generated at once; more wait for a free sequence. */
  sequences: number;
  /** CPU threads; unset: llama.cpp's count of math cores (never more threads than cores). */
  threads?: number;
  /**
   * The prompt layout: `auto` uses the model's chat template when the GGUF carries one (what an
   * instruction-tuned model was trained on), else the Alpaca layout our training job writes.
   */
  promptLayout?: 'auto' | 'chat' | 'alpaca';
  /** Fixes the sampler's randomness (TWIN_GENERATION_SEED); random when unset. */
  seed?: number;
  /** A trained twin's LoRA adapters on this base (`twin models use`); the stock model when absent. */
  twin?: { version: string; adapters: { file: string; sha256: string }[] };
}

export interface Settings {
  dataDir: string;
  warehouse: { kind: 'embedded'; file: string } | { kind: 'mongodb'; database: string };
  /** `collectionPrefix`: a namespace for the collections (TWIN_COLLECTION_PREFIX), none by default. */
  vectorStore: ({ kind: 'embedded'; dir: string } | { kind: 'qdrant' }) & { collectionPrefix?: string };
  embedding: EmbeddingSettings;
  crawl: CrawlSettings;
  dataset: DatasetSettings;
  /** Local artifact store (datasets, ...); on AWS the artifact bucket replaces it. */
  artifactsDir: string;
  /** Where conversations are kept, how long (days from their start) and how many turns each may have. */
  conversations: ({ kind: 'embedded'; file: string } | { kind: 'dynamodb'; table: string }) & {
    retentionDays: number;
    maxTurns: number;
  };
  retrieval: RetrievalSettings;
  generator: GeneratorSettings;
  /** The training workflow on AWS (the TrainingWorkflowArn stack output) and its model registry. */
  training: { workflowArn?: string; modelPackageGroup: string };
  /** The Hugging Face Hub (or a mirror), where datasets are published. */
  hubUrl: string;
  /** Browser origins allowed to call the twin's API (CORS); none by default. */
  corsOrigins: string[];
  /** Opik, when OPIK_API_KEY or OPIK_URL_OVERRIDE is set (traces also go to the logs either way). */
  opik?: { url?: string; workspace?: string; projectName: string };
  logLevel: Env['TWIN_LOG_LEVEL'];
  openAiBaseUrl?: string;
  /** Secret values given directly in the environment. */
  secrets: Partial<Record<SecretSetting, string>>;
  /** Secrets to fetch from Secrets Manager, by ARN. */
  secretArns: Partial<Record<SecretSetting, string>>;
}

/** Thrown at start-up when the environment is invalid; the message names every bad variable. */
export class InvalidSettingsError extends InvalidInputError {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`, problems[0]?.split(':')[0]);
  }
}

/**
 * Validates environment variables against a schema (blank ones count as unset); a bad environment
 * fails once, naming every bad variable. Shared by the settings and by functions with their own.
 */
export function parseEnvironment<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const parsed = schema.safeParse(blankAsUnset(env));
  if (!parsed.success) {
    throw new InvalidSettingsError(
      parsed.error.issues.map((issue) => `${issue.path.map(String).join('.')}: ${issue.message}`),
    );
  }
  return parsed.data;
}

/** Reads and validates the settings from the environment. The single place where defaults live. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const values = parseEnvironment(EnvSchema, env);
  const secrets = pick(SECRET_SETTINGS, (name) => values[name]);
  const secretArns = pick(SECRET_SETTINGS, (name) => {
    const arn = values[`${name}_SECRET_ARN` as keyof Env];
    return typeof arn === 'string' ? arn : undefined;
  });

  if (values.TWIN_WAREHOUSE === 'mongodb' && !secrets.MONGODB_URI && !secretArns.MONGODB_URI) {
    throw new InvalidSettingsError([
      'MONGODB_URI: required when TWIN_WAREHOUSE=mongodb (or set MONGODB_URI_SECRET_ARN on AWS)',
    ]);
  }

  if (values.TWIN_VECTOR_STORE === 'qdrant' && !secrets.QDRANT_URL && !secretArns.QDRANT_URL) {
    throw new InvalidSettingsError([
      'QDRANT_URL: required when TWIN_VECTOR_STORE=qdrant (or set QDRANT_URL_SECRET_ARN on AWS)',
    ]);
  }

  const dataDir = absolute(values.TWIN_DATA_DIR) ?? defaultDataDir(env);
  const modelsDir = absolute(values.TWIN_MODELS_DIR) ?? join(dataDir, 'models');

  return {
    dataDir,
    warehouse:
      values.TWIN_WAREHOUSE === 'mongodb'
        ? { kind: 'mongodb', database: values.MONGODB_DATABASE }
        : { kind: 'embedded', file: join(dataDir, 'warehouse.sqlite') },
    vectorStore: {
      ...(values.TWIN_VECTOR_STORE === 'qdrant'
        ? { kind: 'qdrant' as const }
        : { kind: 'embedded' as const, dir: join(dataDir, 'vectors') }),
      ...(values.TWIN_COLLECTION_PREFIX ? { collectionPrefix: values.TWIN_COLLECTION_PREFIX } : {}),
    },
    embedding: {
      modelId: values.TWIN_EMBEDDING_MODEL_ID,
      modelsDir,
      allowDownload: values.TWIN_ALLOW_MODEL_DOWNLOAD,
      batchSize: values.TWIN_EMBEDDING_BATCH_SIZE,
    },
    crawl: {
      ...(values.TWIN_CHROMIUM_PATH ? { chromiumPath: values.TWIN_CHROMIUM_PATH } : {}),
      concurrency: values.TWIN_CRAWL_CONCURRENCY,
    },
    dataset: {
      model: values.TWIN_DATASET_MODEL,
      temperature: values.TWIN_DATASET_TEMPERATURE,
      maxTokens: values.TWIN_DATASET_MAX_TOKENS,
      concurrency: values.TWIN_DATASET_CONCURRENCY,
      dedupThreshold: values.TWIN_DATASET_DEDUP_THRESHOLD,
      maxFailureRate: values.TWIN_DATASET_MAX_FAILURE_RATE,
      minSamples: values.TWIN_DATASET_MIN_SAMPLES,
      timeoutMs: values.TWIN_LLM_TIMEOUT_MS,
      maxRetries: values.TWIN_LLM_MAX_RETRIES,
      pricePerMillionInput: values.TWIN_LLM_PRICE_INPUT_PER_MTOK,
      pricePerMillionOutput: values.TWIN_LLM_PRICE_OUTPUT_PER_MTOK,
    },
    artifactsDir: absolute(values.TWIN_ARTIFACTS_DIR) ?? join(dataDir, 'artifacts'),
    conversations: {
      ...(values.CONVERSATIONS_TABLE
        ? { kind: 'dynamodb' as const, table: values.CONVERSATIONS_TABLE }
        : { kind: 'embedded' as const, file: join(dataDir, 'conversations.sqlite') }),
      retentionDays: values.TWIN_CONVERSATION_TTL_DAYS,
      maxTurns: values.TWIN_CONVERSATION_MAX_TURNS,
    },
    retrieval: {
      k: values.TWIN_RAG_K,
      expand: values.TWIN_RAG_EXPAND,
      queries: values.TWIN_RAG_QUERIES,
      rerank: values.TWIN_RAG_RERANK,
      mode: values.TWIN_RAG_MODE,
      fusion: values.TWIN_RAG_FUSION,
      fusionK: values.TWIN_RAG_FUSION_K,
      fusionAlpha: values.TWIN_RAG_FUSION_ALPHA,
      rerankModelId: values.TWIN_RERANK_MODEL_ID,
      rerankPrecision: values.TWIN_RERANK_PRECISION,
      rerankCandidates: values.TWIN_RERANK_CANDIDATES,
      rerankMaxTokens: values.TWIN_RERANK_MAX_TOKENS,
      maxQueryChars: values.TWIN_RAG_MAX_QUERY_CHARS,
      queryModel: values.TWIN_QUERY_MODEL,
      queryBackend: values.TWIN_QUERY_BACKEND,
    },
    generator: generatorSettings(values, secrets, secretArns, modelsDir, readActiveTwin(dataDir)),
    corsOrigins: values.TWIN_CORS_ORIGINS,
    hubUrl: values.HF_ENDPOINT,
    training: {
      modelPackageGroup: values.TWIN_MODEL_PACKAGE_GROUP,
      ...(values.TWIN_TRAINING_WORKFLOW_ARN ? { workflowArn: values.TWIN_TRAINING_WORKFLOW_ARN } : {}),
    },
    ...(values.OPIK_URL_OVERRIDE || secrets.OPIK_API_KEY || secretArns.OPIK_API_KEY
      ? {
          opik: {
            ...(values.OPIK_URL_OVERRIDE ? { url: values.OPIK_URL_OVERRIDE } : {}),
            ...(values.OPIK_WORKSPACE ? { workspace: values.OPIK_WORKSPACE } : {}),
            projectName: values.OPIK_PROJECT_NAME,
          },
        }
      : {}),
    logLevel: values.TWIN_LOG_LEVEL,
    ...(values.OPENAI_BASE_URL ? { openAiBaseUrl: values.OPENAI_BASE_URL } : {}),
    secrets,
    secretArns,
  };
}

/** True when an OpenAI-compatible API is configured (a key or a base URL; secrets already resolved). */
/**
 * The local GGUF model without any twin's adapter (dataset generation, the base a twin is trained
 * from): the configured local generator, else the one in the model folder, else none.
 */
export function stockLocalGenerator(
  settings: Pick<Settings, 'generator' | 'embedding'>,
): (LocalGeneratorSettings & { timeoutMs: number }) | undefined {
  const generator = settings.generator;
  if (generator.kind === 'local') {
    const { twin: _twin, ...stock } = generator;
    return stock;
  }
  const found = findLocalModel(settings.embedding.modelsDir);
  return found && { ...found, contextSize: 4096, sequences: 1, timeoutMs: LOCAL_TIMEOUT_MS };
}

export function openAiConfigured(settings: Pick<Settings, 'openAiBaseUrl' | 'secrets'>): boolean {
  return Boolean(settings.openAiBaseUrl ?? settings.secrets.OPENAI_API_KEY);
}

/** The endpoint's TGI MAX_INPUT_LENGTH (SYSTEM.md §7). */
const TGI_MAX_INPUT_TOKENS = 2048;
/** Hosted chat models read far more; this keeps k=9 chunks with room to spare, and the cost low. */
const OPENAI_MAX_INPUT_TOKENS = 8192;

/** A hosted model answers within this; a local one on a laptop CPU reads a long prompt first. */
const REMOTE_TIMEOUT_MS = 25_000;
const LOCAL_TIMEOUT_MS = 180_000;

/**
 * Which model writes the answers. `auto` picks the SageMaker endpoint when one is named, else an
 * OpenAI-compatible API when a key or base URL is set, else a local GGUF model when one is named
 * or in the model folder, else none (retrieval still works offline).
 */
function generatorSettings(
  values: Env,
  secrets: Partial<Record<SecretSetting, string>>,
  secretArns: Partial<Record<SecretSetting, string>>,
  modelsDir: string,
  twin: ActiveTwin | undefined,
): GeneratorSettings {
  const baseUrl = values.TWIN_GENERATOR_BASE_URL ?? values.OPENAI_BASE_URL;
  const openAiGiven = Boolean(baseUrl ?? secrets.OPENAI_API_KEY ?? secretArns.OPENAI_API_KEY);
  // A twin made active with `twin models use` answers on the base it was trained on.
  const localModel = () =>
    twin
      ? { file: twin.base.file }
      : values.TWIN_GENERATOR_GGUF !== undefined
        ? localModelFile(values.TWIN_GENERATOR_GGUF, modelsDir)
        : findLocalModel(modelsDir);
  const kind =
    values.TWIN_GENERATOR !== 'auto'
      ? values.TWIN_GENERATOR
      : values.TWIN_SAGEMAKER_ENDPOINT
        ? 'sagemaker'
        : openAiGiven && !twin
          ? 'openai'
          : localModel()
            ? 'local'
            : 'none';
  const shared = {
    maxNewTokens: values.TWIN_GENERATION_MAX_NEW_TOKENS,
    temperature: values.TWIN_GENERATION_TEMPERATURE,
    topP: values.TWIN_GENERATION_TOP_P,
    repetitionPenalty: values.TWIN_GENERATION_REPETITION_PENALTY,
    timeoutMs: values.TWIN_GENERATION_TIMEOUT_MS ?? (kind === 'local' ? LOCAL_TIMEOUT_MS : REMOTE_TIMEOUT_MS),
  };
  switch (kind) {
    case 'local': {
      const model = localModel() ?? localModelFile(DEFAULT_LOCAL_GENERATOR, modelsDir);
      return {
        ...shared,
        kind,
        ...model,
        ...(twin
          ? { sha256: twin.base.sha256, twin: { version: twin.version, adapters: twin.adapters } }
          : values.TWIN_GENERATOR_GGUF_SHA256
            ? { sha256: values.TWIN_GENERATOR_GGUF_SHA256 }
            : {}),
        contextSize: values.TWIN_GENERATOR_CONTEXT,
        sequences: values.TWIN_GENERATOR_SEQUENCES,
        ...(values.TWIN_GENERATOR_THREADS ? { threads: values.TWIN_GENERATOR_THREADS } : {}),
        ...(values.TWIN_GENERATION_SEED !== undefined ? { seed: values.TWIN_GENERATION_SEED } : {}),
        ...(values.TWIN_GENERATOR_PROMPT_LAYOUT !== 'auto'
          ? { promptLayout: values.TWIN_GENERATOR_PROMPT_LAYOUT }
          : {}),
        // The adapter narrows this to what the loaded model's context leaves after the answer.
        maxInputTokens: values.TWIN_GENERATION_MAX_INPUT_TOKENS ?? values.TWIN_GENERATOR_CONTEXT,
      };
    }
    case 'sagemaker':
      if (!values.TWIN_SAGEMAKER_ENDPOINT) {
        throw new InvalidSettingsError([
          'TWIN_SAGEMAKER_ENDPOINT: required when TWIN_GENERATOR=sagemaker (the endpoint serving the twin)',
        ]);
      }
      return {
        ...shared,
        kind,
        endpointName: values.TWIN_SAGEMAKER_ENDPOINT,
        ...(values.TWIN_SAGEMAKER_INFERENCE_COMPONENT
          ? { inferenceComponentName: values.TWIN_SAGEMAKER_INFERENCE_COMPONENT }
          : {}),
        maxInputTokens: values.TWIN_GENERATION_MAX_INPUT_TOKENS ?? TGI_MAX_INPUT_TOKENS,
      };
    case 'openai':
      return {
        ...shared,
        kind,
        model: values.TWIN_GENERATOR_MODEL,
        maxInputTokens: values.TWIN_GENERATION_MAX_INPUT_TOKENS ?? OPENAI_MAX_INPUT_TOKENS,
        ...(baseUrl ? { baseUrl } : {}),
      };
    case 'none':
      return {
        ...shared,
        kind,
        maxInputTokens: values.TWIN_GENERATION_MAX_INPUT_TOKENS ?? OPENAI_MAX_INPUT_TOKENS,
      };
  }
}

function absolute(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  return isAbsolute(path) ? path : resolve(path);
}

/** An empty variable (`FOO=` in a .env file) means "not set", so its default applies. */
function blankAsUnset(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
}

function pick<K extends string>(
  keys: readonly K[],
  value: (key: K) => string | undefined,
): Partial<Record<K, string>> {
  const result: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const found = value(key);
    if (found !== undefined) result[key] = found;
  }
  return result;
}
