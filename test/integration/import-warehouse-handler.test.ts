import { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { IN_CI, REFERENCE_WAREHOUSE_DIR, referenceCorpusAvailable } from '../support/environment.js';

const mongoUri = inject('mongoUri');
if (!mongoUri && IN_CI) throw new Error('the handler test needs the MongoDB-wire server that .ci/run starts');

const context = { functionName: 'import-warehouse', awsRequestId: 'test-request' } as Context;

describe.runIf(Boolean(mongoUri) && referenceCorpusAvailable())('import-warehouse Lambda handler', () => {
  const database = `twin_handler_${randomUUID().slice(0, 8)}`;
  const s3 = mockClient(S3Client);
  let handler: (event: unknown, context: Context) => Promise<unknown>;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    // The handler reads its settings from the environment, as in Lambda.
    Object.assign(process.env, {
      ARTIFACT_BUCKET: 'twin-artifacts',
      TWIN_WAREHOUSE: 'mongodb',
      MONGODB_URI: mongoUri,
      MONGODB_DATABASE: database,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    s3.on(GetObjectCommand).callsFake(async (input: { Bucket: string; Key: string }) => {
      const match = /^warehouse-exports\/book\/(\w+\.json)$/.exec(input.Key);
      if (input.Bucket !== 'twin-artifacts' || !match?.[1]) {
        throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      }
      const body = await readFile(join(REFERENCE_WAREHOUSE_DIR, match[1]));
      return { Body: sdkStreamMixin(Readable.from([body])) };
    });
    ({ handler } = await import('../../lambdas/handlers/import-warehouse.js'));
  });

  afterAll(async () => {
    s3.restore();
    process.env = savedEnv;
    const client = new MongoClient(mongoUri);
    await client.db(database).dropDatabase();
    await client.close();
  });

  it('imports an export stored under warehouse-exports/ into MongoDB, and re-runs skip everything', async () => {
    const first = await handler({ prefix: 'warehouse-exports/book/' }, context);
    expect(first).toMatchObject({
      source: 's3://twin-artifacts/warehouse-exports/book',
      users: { created: 2 },
      documents: { articles: { inserted: 76, skipped: 0 } },
    });
    const again = await handler({ prefix: 'warehouse-exports/book' }, context);
    expect(again).toMatchObject({
      users: { existing: 2 },
      documents: { articles: { inserted: 0, skipped: 76 } },
    });
  });

  it('rejects an event whose prefix leaves the exports folder, naming the field', async () => {
    for (const prefix of ['../secrets', 'warehouse-exports/../x', 'datasets/v1', 42]) {
      await expect(handler({ prefix }, context)).rejects.toMatchObject({
        name: 'InvalidInputError',
        field: 'prefix',
      });
    }
  });

  it('reports a prefix that holds no export', async () => {
    await expect(handler({ prefix: 'warehouse-exports/empty' }, context)).rejects.toThrow(
      /UserDocument\.json: missing from s3:\/\/twin-artifacts\/warehouse-exports\/empty/,
    );
  });
});
