import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../lambdas/adapters/artifacts/s3.js';

const s3 = mockClient(S3Client);

describe('the S3 artifact store', () => {
  afterEach(() => s3.reset());
  const store = new S3ArtifactStore(new S3Client({ region: 'eu-west-1' }), 'twin-artifacts');

  it('writes whole objects with a content type, and reads them back', async () => {
    s3.on(PutObjectCommand).resolves({});
    s3.on(GetObjectCommand, {
      Bucket: 'twin-artifacts',
      Key: 'datasets/instruct/abc/manifest.json',
    }).resolves({
      Body: sdkStreamMixin(Readable.from([Buffer.from('{"version":"abc"}')])),
    });

    await store.write('datasets/instruct/abc/train.jsonl', '{"instruction":"a","output":"b"}\n');

    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'twin-artifacts',
      Key: 'datasets/instruct/abc/train.jsonl',
      Body: '{"instruction":"a","output":"b"}\n',
      ContentType: 'application/x-ndjson',
    });
    expect(await store.read('datasets/instruct/abc/manifest.json')).toBe('{"version":"abc"}');
    expect(store.location).toBe('s3://twin-artifacts');
  });

  it('reads a missing object as absent, and lets other failures through', async () => {
    s3.on(GetObjectCommand, { Key: 'missing' }).rejects(
      new NoSuchKey({ message: 'no such key', $metadata: {} }),
    );
    s3.on(HeadObjectCommand, { Key: 'missing' }).rejects(
      new NotFound({ message: 'not found', $metadata: {} }),
    );
    s3.on(HeadObjectCommand, { Key: 'present' }).resolves({});
    s3.on(GetObjectCommand, { Key: 'forbidden' }).rejects(
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }),
    );

    expect(await store.read('missing')).toBeUndefined();
    expect(await store.exists('missing')).toBe(false);
    expect(await store.exists('present')).toBe(true);
    await expect(store.read('forbidden')).rejects.toThrow('Access Denied');
  });

  it('lists every key under a prefix, across pages', async () => {
    s3.on(ListObjectsV2Command, { Prefix: 'datasets/instruct/', ContinuationToken: undefined }).resolves({
      Contents: [{ Key: 'datasets/instruct/a/manifest.json' }],
      IsTruncated: true,
      NextContinuationToken: 'page-2',
    });
    s3.on(ListObjectsV2Command, { Prefix: 'datasets/instruct/', ContinuationToken: 'page-2' }).resolves({
      Contents: [{ Key: 'datasets/instruct/b/manifest.json' }],
      IsTruncated: false,
    });
    expect(await store.list('datasets/instruct/')).toEqual([
      'datasets/instruct/a/manifest.json',
      'datasets/instruct/b/manifest.json',
    ]);
  });
});
