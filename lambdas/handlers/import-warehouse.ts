import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { openWarehouse } from '../adapters/warehouse/index.js';
import { s3ExportSource } from '../adapters/s3/export-source.js';
import { loadSettingsWithSecrets } from '../settings/index.js';
import { retryingLazy } from '../shared/lazy.js';
import { importWarehouse, type ImportReport } from '../warehouse/import.js';
import { parseEvent } from './parse-event.js';

/**
 * Imports a warehouse export (the book's format) from the artifact bucket into the MongoDB warehouse:
 * how a user of the book moves an existing warehouse to AWS. Upload the folder's JSON files under
 * `warehouse-exports/<name>/`, then invoke with `{"prefix": "warehouse-exports/<name>"}`.
 */

export const ImportWarehouseEventSchema = z.object({
  prefix: z
    .string()
    .regex(
      /^warehouse-exports\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/?$/,
      'must be a folder under warehouse-exports/',
    )
    .refine((prefix) => !prefix.split('/').includes('..'), 'must not contain ".."'),
});

const logger = new Logger({ serviceName: 'llm-twin-warehouse' });
// Clients and settings are built once per container, not per invocation.
const s3 = new S3Client({});
const bucket = z
  .string()
  .min(1)
  .parse(process.env.ARTIFACT_BUCKET, { error: () => 'ARTIFACT_BUCKET is not set' });
const sharedWarehouse = retryingLazy(() => loadSettingsWithSecrets(process.env).then(openWarehouse));

export async function importWarehouseFromS3(event: unknown): Promise<ImportReport> {
  const { prefix } = parseEvent(ImportWarehouseEventSchema, event);
  const source = s3ExportSource(s3, bucket, prefix);
  logger.info('importing warehouse export', { source: source.location });
  const report = await importWarehouse(await sharedWarehouse(), source);
  logger.info('warehouse export imported', { report });
  return report;
}

export const handler = middy(importWarehouseFromS3).use(injectLambdaContext(logger, { resetKeys: true }));
