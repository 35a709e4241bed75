import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { AccessControl } from '../access/policy-store.js';
import { lazyS3ArtifactStore } from '../adapters/artifacts/lazy.js';
import { S3ArtifactStore } from '../adapters/artifacts/s3.js';
import { S3RunClaims } from '../adapters/runs/s3-run-claims.js';
import { StepFunctionsCollectionRuns } from '../adapters/runs/step-functions.js';
import { S3ExportUploads } from '../adapters/uploads/s3.js';
import { openWarehouse } from '../adapters/warehouse/index.js';
import { openFeatureStoreForReading } from '../features/services.js';
import { fromApiGatewayEvent, toProxyResult } from '../http/api-gateway.js';
import { loadSettings, loadSettingsWithSecrets, parseEnvironment } from '../settings/index.js';
import { retryingLazy } from '../shared/lazy.js';
import { AUTHOR_CONFIGS_PREFIX, AuthorLinksRepository } from '../workspace/author-links.js';
import { WorkspaceHttpApi, type WorkspaceServices } from '../workspace/http-api.js';
import { workspaceStats } from '../workspace/stats.js';

/**
 * The web app's management API behind API Gateway, beside POST /rag: author link lists in the
 * artifact bucket, collection runs as ETL workflow executions, warehouse and feature-store counts.
 */
const logger = new Logger({ serviceName: 'llm-twin-workspace' });
const tracer = new Tracer({ serviceName: 'llm-twin-workspace' });

const EnvSchema = z.object({
  ARTIFACT_BUCKET: z.string().min(1),
  ETL_STATE_MACHINE_ARN: z.string().startsWith('arn:'),
});

const services = retryingLazy(async (): Promise<WorkspaceServices> => {
  const env = parseEnvironment(EnvSchema, process.env);
  const settings = await loadSettingsWithSecrets(process.env);
  const [warehouse, { features }] = await Promise.all([
    openWarehouse(settings),
    openFeatureStoreForReading(settings),
  ]);
  const s3 = tracer.captureAWSv3Client(new S3Client({}));
  return {
    links: new AuthorLinksRepository(new S3ArtifactStore(s3, env.ARTIFACT_BUCKET), AUTHOR_CONFIGS_PREFIX),
    runs: new StepFunctionsCollectionRuns(
      tracer.captureAWSv3Client(new SFNClient({})),
      env.ETL_STATE_MACHINE_ARN,
      new S3RunClaims(s3, env.ARTIFACT_BUCKET),
    ),
    stats: () => workspaceStats(warehouse, features),
    uploads: new S3ExportUploads(s3, env.ARTIFACT_BUCKET),
  };
});

const api = new WorkspaceHttpApi(services, {
  corsOrigins: loadSettings(process.env).corsOrigins,
  ...(process.env.ARTIFACT_BUCKET
    ? { access: new AccessControl(lazyS3ArtifactStore(process.env.ARTIFACT_BUCKET)) }
    : {}),
  onError: (error) => {
    logger.error('request failed', { error });
  },
});

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .handler(async (event) => {
    const request = fromApiGatewayEvent(event);
    logger.appendKeys({ principal: request.principal?.id });
    return toProxyResult(await api.handle(request));
  });
