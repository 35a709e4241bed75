import { LlamaCppChatModel } from '../adapters/llm/llama-cpp/chat-model.js';
import { LlamaCppJsonModel } from '../adapters/llm/llama-cpp/json-model.js';
import { leaseLocalLlm, type LocalLlmLease } from '../adapters/llm/llama-cpp/shared.js';
import { OpenAiChatModel } from '../adapters/llm/openai-chat.js';
import { OpenAiJsonModel } from '../adapters/llm/openai-json.js';
import { CrossEncoderReranker, type CrossEncoderSettings } from '../adapters/reranker/cross-encoder.js';
import type { FeatureStore } from '../features/feature-store.js';
import { openFeatureServices } from '../features/services.js';
import type { ChatModel } from '../ports/chat-model.js';
import type { Embedder } from '../ports/embedder.js';
import type { JsonChatModel } from '../ports/json-chat.js';
import type { TraceSink } from '../ports/request-trace.js';
import type { Reranker } from '../ports/reranker.js';
import { openAiConfigured, type Settings } from '../settings/index.js';
import { estimateTokens } from './prompt.js';
import { ContextRetriever, type RetrievalOptions } from './retriever.js';
import type { AuthorDirectory } from '../ports/warehouse.js';
import { rewriteWithModel } from './follow-up.js';
import { RagService } from './service.js';

/** Self-query and expansion replies are short; a slow query model should not hold up an answer. */
const QUERY_MODEL = { temperature: 0, maxTokens: 400, maxRetries: 1 } as const;

export interface RagComponents {
  authors: AuthorDirectory;
  sinks: readonly TraceSink[];
  /** Built from settings when not given (tests pass their own). */
  embedder?: Embedder;
  /**
   * The embedder and feature store to use, when the caller shares them with other work (one store
   * connection per process sees every write); the caller then closes them.
   */
  featureServices?: { embedder: Embedder; features: FeatureStore };
  generator?: ChatModel | null;
  queryModel?: JsonChatModel | null;
  reranker?: (() => Promise<Reranker>) | null;
  onSinkError?: (error: unknown) => void;
}

/**
 * The twin as configured: the SageMaker TGI endpoint, an OpenAI-compatible model, a GGUF model in
 * this process, or none. Close it when done (a local model holds its weights until then).
 */
export async function openGenerator(settings: Settings): Promise<ChatModel | undefined> {
  const generator = settings.generator;
  switch (generator.kind) {
    case 'none':
      return undefined;
    case 'local':
      return new LlamaCppChatModel(await leaseLocalLlm(generator), {
        maxNewTokens: generator.maxNewTokens,
        temperature: generator.temperature,
        topP: generator.topP,
        repetitionPenalty: generator.repetitionPenalty,
        ...(generator.seed !== undefined ? { seed: generator.seed } : {}),
        timeoutMs: generator.timeoutMs,
        // Only a budget set on purpose narrows what the model's context allows.
        ...(generator.maxInputTokens < generator.contextSize
          ? { maxInputTokens: generator.maxInputTokens }
          : {}),
      });
    case 'openai':
      return OpenAiChatModel.create({
        model: generator.model,
        maxNewTokens: generator.maxNewTokens,
        temperature: generator.temperature,
        topP: generator.topP,
        timeoutMs: generator.timeoutMs,
        maxRetries: 1,
        ...(generator.baseUrl ? { baseUrl: generator.baseUrl } : {}),
        ...(settings.secrets.OPENAI_API_KEY ? { apiKey: settings.secrets.OPENAI_API_KEY } : {}),
      });
    case 'sagemaker': {
      const [{ SageMakerRuntimeClient }, { SageMakerTgiModel }] = await Promise.all([
        import('@aws-sdk/client-sagemaker-runtime'),
        import('../adapters/llm/sagemaker-tgi.js'),
      ]);
      return new SageMakerTgiModel(new SageMakerRuntimeClient({}), { ...generator });
    }
  }
}

/** The cross-encoder, loaded once on first use; a failed load is remembered, not retried per request. */
export function lazyReranker(settings: Settings): () => Promise<Reranker> {
  let loading: Promise<Reranker> | undefined;
  return () => (loading ??= CrossEncoderReranker.load(crossEncoderSettings(settings)));
}

/** Where the cross-encoder lives and how it runs, from settings (the service and `twin models pull`). */
export function crossEncoderSettings(settings: Settings): CrossEncoderSettings {
  return {
    modelId: settings.retrieval.rerankModelId,
    modelsDir: settings.embedding.modelsDir,
    allowDownload: settings.embedding.allowDownload,
    precision: settings.retrieval.rerankPrecision,
    maxPairTokens: settings.retrieval.rerankMaxTokens,
  };
}

/**
 * The retriever wired from settings, exactly as the RAG service runs it (the evaluation uses this
 * too): the feature store and embedder, the query model when an OpenAI-compatible API is
 * configured, the reranker. Also the retrieval options the service defaults to.
 */
export async function openRetriever(
  settings: Settings,
  components: Omit<RagComponents, 'sinks' | 'generator' | 'onSinkError'>,
): Promise<{
  retriever: ContextRetriever;
  defaults: RetrievalDefaults;
  /** The model for self-query and expansion, when there is one: it also rewrites follow-ups. */
  queryModel: JsonChatModel | undefined;
  close(): Promise<void>;
}> {
  const { embedder, features, ...store } = components.featureServices
    ? { ...components.featureServices, close: () => Promise.resolve() }
    : await openFeatureServices(settings, components.embedder);
  const query =
    components.queryModel !== undefined
      ? { model: components.queryModel ?? undefined, release: () => Promise.resolve() }
      : await openQueryModel(settings);
  const queryModel = query.model;
  const reranker =
    components.reranker !== undefined ? (components.reranker ?? undefined) : lazyReranker(settings);
  const retriever = new ContextRetriever({
    features,
    embedder,
    authors: components.authors,
    ...(queryModel ? { queryModel } : {}),
    ...(reranker ? { reranker, rerankCandidates: settings.retrieval.rerankCandidates } : {}),
  });
  const { k, expand, queries, rerank, mode, fusion, fusionK, fusionAlpha, maxQueryChars } =
    settings.retrieval;
  return {
    retriever,
    defaults: { k, expand, queries, rerank, mode, fusion, fusionK, fusionAlpha, maxQueryChars },
    queryModel,
    close: async () => {
      await query.release();
      await store.close();
    },
  };
}

/** Self-query and expansion replies need more time on a laptop CPU than from an API. */
const LOCAL_QUERY_TIMEOUT_MS = 60_000;

/**
 * The model for self-query and expansion (TWIN_QUERY_BACKEND). `auto`: the OpenAI-compatible API
 * when configured; else the local generator when it is instruction-tuned (a base model or a twin
 * trained on Alpaca pairs does not follow these instructions); else none, and the name matcher
 * finds the author.
 */
async function openQueryModel(
  settings: Settings,
): Promise<{ model: JsonChatModel | undefined; release(): Promise<void> }> {
  const none = { model: undefined, release: () => Promise.resolve() };
  const backend = settings.retrieval.queryBackend;
  if (backend === 'none') return none;
  if (backend === 'openai' || (backend === 'auto' && openAiConfigured(settings))) {
    const model = await OpenAiJsonModel.create({
      ...QUERY_MODEL,
      model: settings.retrieval.queryModel,
      timeoutMs: Math.min(settings.generator.timeoutMs, 15_000),
      ...(settings.openAiBaseUrl ? { baseUrl: settings.openAiBaseUrl } : {}),
      ...(settings.secrets.OPENAI_API_KEY ? { apiKey: settings.secrets.OPENAI_API_KEY } : {}),
    });
    return { model, release: none.release };
  }
  if (settings.generator.kind !== 'local') return none;
  const lease: LocalLlmLease = await leaseLocalLlm(settings.generator);
  if (backend === 'auto' && !lease.llm.instructionTuned) {
    await lease.release();
    return none;
  }
  const model = new LlamaCppJsonModel(lease.llm, {
    maxTokens: QUERY_MODEL.maxTokens,
    timeoutMs: LOCAL_QUERY_TIMEOUT_MS,
  });
  return { model, release: () => lease.release() };
}

export type RetrievalDefaults = Omit<RetrievalOptions, 'author'> & { maxQueryChars: number };

/** The RAG service wired from settings: the retriever (above) and the twin. Build once per process. */
export async function openRagService(
  settings: Settings,
  components: RagComponents,
): Promise<{ service: RagService; close(): Promise<void> }> {
  const { retriever, defaults, queryModel, ...opened } = await openRetriever(settings, components);
  const ownGenerator = components.generator === undefined;
  const generator = ownGenerator
    ? await openGenerator(settings).catch(async (error: unknown) => {
        await opened.close();
        throw error;
      })
    : (components.generator ?? undefined);
  const budget = generator?.promptBudget ?? {
    maxInputTokens: settings.generator.maxInputTokens,
    countTokens: estimateTokens,
  };
  const service = new RagService({
    retriever,
    ...(generator ? { generator } : {}),
    defaults,
    maxInputTokens: budget.maxInputTokens,
    countTokens: budget.countTokens,
    sinks: components.sinks,
    secrets: Object.values(settings.secrets),
    ...(queryModel
      ? { rewriteFollowUp: (query, history) => rewriteWithModel(queryModel, query, history) }
      : {}),
    ...(components.onSinkError ? { onSinkError: components.onSinkError } : {}),
  });
  return {
    service,
    close: async () => {
      if (ownGenerator) await generator?.close?.();
      await opened.close();
    },
  };
}
