import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { openWarehouse } from '../adapters/warehouse/index.js';
import { s3ExportSource } from '../adapters/s3/export-source.js';
import { describeZodIssues, firstFailingField, InvalidInputError } from '../domain/index.js';
import type { Warehouse } from '../ports/warehouse.js';
import { loadSettingsWithSecrets } from '../settings/index.js';
import { importWarehouse, type ImportReport } from '../warehouse/import.js';

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
let warehouse: Promise<Warehouse> | undefined;

function sharedWarehouse(): Promise<Warehouse> {
  warehouse ??= loadSettingsWithSecrets(process.env).then(openWarehouse);
  // A failed connection is retried by the next invocation instead of being cached.
  warehouse.catch(() => (warehouse = undefined));
  return warehouse;
}

export async function importWarehouseFromS3(event: unknown): Promise<ImportReport> {
  const parsed = ImportWarehouseEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidInputError(
      `invalid event: ${describeZodIssues(parsed.error).join('; ')}`,
      firstFailingField(parsed.error),
    );
  }
  const source = s3ExportSource(s3, bucket, parsed.data.prefix);
  logger.info('importing warehouse export', { source: source.location });
  const report = await importWarehouse(await sharedWarehouse(), source);
  logger.info('warehouse export imported', { report });
  return report;
}

export const handler = middy(importWarehouseFromS3).use(injectLambdaContext(logger, { resetKeys: true }));
