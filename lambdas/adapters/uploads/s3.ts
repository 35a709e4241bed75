import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import {
  EXPORT_UPLOAD_KEY,
  newExportUploadKey,
  MAX_EXPORT_UPLOAD_BYTES,
  type ExportUploads,
  type UploadTicket,
} from '../../ports/export-uploads.js';

const TICKET_SECONDS = 600;

/**
 * Uploaded exports in the artifact bucket: the browser posts the archive straight to S3 with a
 * presigned POST whose policy allows exactly one key under exports/, a zip content type and at most
 * MAX_EXPORT_UPLOAD_BYTES, for ten minutes. The archive never passes through API Gateway or Lambda's
 * payload limits; the ETL workflow's function reads it from the bucket.
 */
export class S3ExportUploads implements ExportUploads {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async ticket(): Promise<UploadTicket> {
    const key = newExportUploadKey();
    // The presigner pins its own patch release of client-s3; it only reads the client's config,
    // which both releases shape alike (the simulated-S3 test checks the signature it produces).
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
    const { url, fields } = await createPresignedPost(this.client, {
      Bucket: this.bucket,
      Key: key,
      Conditions: [
        ['content-length-range', 1, MAX_EXPORT_UPLOAD_BYTES],
        ['eq', '$Content-Type', 'application/zip'],
      ],
      Fields: { 'Content-Type': 'application/zip' },
      Expires: TICKET_SECONDS,
    });
    return {
      key,
      url,
      fields,
      maxBytes: MAX_EXPORT_UPLOAD_BYTES,
      expiresAt: new Date(Date.now() + TICKET_SECONDS * 1000).toISOString(),
    };
  }

  async read(key: string): Promise<Buffer | undefined> {
    if (!EXPORT_UPLOAD_KEY.test(key)) return undefined;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = await object.Body?.transformToByteArray();
      return bytes ? Buffer.from(bytes) : undefined;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    if (EXPORT_UPLOAD_KEY.test(key))
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
