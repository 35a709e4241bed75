import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { AccessControl } from '../access/policy-store.js';
import { lazyS3ArtifactStore } from '../adapters/artifacts/lazy.js';
import { OpikTraceSink } from '../adapters/monitoring/opik-sink.js';
import { PowertoolsTraceSink } from '../adapters/monitoring/powertools-sink.js';
import { OnnxEmbedder } from '../adapters/embedder/onnx.js';
import { openWarehouse } from '../adapters/warehouse/index.js';
import type { TraceSink } from '../ports/request-trace.js';
import { fromApiGatewayEvent, toStreamingReply, type StreamingLambdaReply } from '../http/api-gateway.js';
import { lazyConversationStore } from '../adapters/conversations/index.js';
import { Conversations } from '../rag/conversations.js';
import { RagHttpApi } from '../rag/http-api.js';
import { lazyReranker, openRagService } from '../rag/open-service.js';
import { loadSettings, loadSettingsWithSecrets } from '../settings/index.js';
import { retryingLazy } from '../shared/lazy.js';
import { StartupTimings } from '../shared/startup-timings.js';
import { CachedAuthorDirectory } from '../warehouse/cached-author-directory.js';

/**
 * The twin's API behind API Gateway (POST /rag), with response streaming so answers can be sent as
 * they are written. Models, clients and connections are built once per container, starting as the
 * container starts (not on its first request), the two models and the warehouse side by side.
 */
const logger = new Logger({ serviceName: 'llm-twin-rag' });
const metrics = new Metrics({ namespace: 'LlmTwin', serviceName: 'rag' });
const tracer = new Tracer({ serviceName: 'llm-twin-rag' });

const service = retryingLazy(async () => {
  const timings = new StartupTimings();
  const settings = await timings.time('settings', () => loadSettingsWithSecrets(process.env));
  const reranker = lazyReranker(settings);
  const [warehouse, embedder] = await Promise.all([
    timings.time('warehouse', () => openWarehouse(settings)),
    timings.time('embedder', () => OnnxEmbedder.load(settings.embedding)),
    // Loaded beside the rest when reranking is on by default; a failure is reported per request.
    settings.retrieval.rerank ? timings.time('reranker', reranker).catch(() => undefined) : undefined,
  ]);
  const sinks: TraceSink[] = [new PowertoolsTraceSink(logger, metrics)];
  if (settings.opik) {
    sinks.push(
      await OpikTraceSink.create({
        ...settings.opik,
        ...(settings.secrets.OPIK_API_KEY ? { apiKey: settings.secrets.OPIK_API_KEY } : {}),
      }),
    );
  }
  const rag = await timings.time('service', () =>
    openRagService(settings, {
      // Name matching reads the authors once per 30 s, not per request.
      authors: new CachedAuthorDirectory(warehouse),
      embedder,
      reranker,
      sinks,
      onSinkError: (error) => {
        logger.warn('a trace was not recorded', { error });
      },
    }),
  );
  logger.info('ready', { coldStart: timings.summary() });
  return rag.service;
});
// Start while the container initialises; the first request waits for whatever is left.
void service().catch((error: unknown) => {
  logger.error('start-up failed; the next request tries again', { error });
});

// Who may use which twins: the access policy in the artifact bucket, when the stack names one.
const bucket = process.env.ARTIFACT_BUCKET;
const access = bucket ? new AccessControl(lazyS3ArtifactStore(bucket)) : undefined;

// Conversations: the stack's DynamoDB table (CONVERSATIONS_TABLE), its client loaded on first use.
const settings = loadSettings(process.env);
const conversations =
  settings.conversations.kind === 'dynamodb'
    ? new Conversations(
        lazyConversationStore(settings),
        settings.conversations,
        settings.retrieval.maxQueryChars,
        (error) => {
          logger.error('a conversation turn was not saved', { error });
        },
      )
    : undefined;

const api = new RagHttpApi(service, {
  corsOrigins: settings.corsOrigins,
  ...(access ? { access } : {}),
  ...(conversations ? { conversations } : {}),
  onError: (error, { status }) => {
    logger.error('request failed', { status, error });
  },
});

export const handler = middy<APIGatewayProxyEvent, StreamingLambdaReply>({ streamifyResponse: true })
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .handler(async (event: APIGatewayProxyEvent) => {
    const request = fromApiGatewayEvent(event);
    logger.appendKeys({ principal: request.principal?.id });
    return toStreamingReply(await api.handle(request));
  });
