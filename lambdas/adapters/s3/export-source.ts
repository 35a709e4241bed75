import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import type { ExportSource } from '../../warehouse/sources.js';

/** A warehouse export stored under a prefix of an S3 bucket (the artifact bucket on AWS). */
export function s3ExportSource(client: S3Client, bucket: string, prefix: string): ExportSource {
  const folder = prefix.replace(/\/+$/, '');
  return {
    location: `s3://${bucket}/${folder}`,
    async read(fileName) {
      try {
        const object = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: `${folder}/${fileName}` }),
        );
        return await object.Body?.transformToString('utf8');
      } catch (error) {
        if (error instanceof NoSuchKey) return undefined;
        throw error;
      }
    },
  };
}
