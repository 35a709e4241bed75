/* Free of imports on purpose: the web app type-checks against this file too. */

/** Uploaded platform exports wait under this prefix until a run imports them. */
export const EXPORT_UPLOADS_PREFIX = 'exports/';

/** The only keys an upload can have: no path of the caller's choosing ever reaches a store. */
export const EXPORT_UPLOAD_KEY =
  /^exports\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.zip$/u;

/** A fresh upload key (the only shape EXPORT_UPLOAD_KEY accepts). */
export function newExportUploadKey(): string {
  return `${EXPORT_UPLOADS_PREFIX}${crypto.randomUUID()}.zip`;
}

/** The largest export accepted from the web app (LinkedIn, Medium and Substack exports of text are far smaller). */
export const MAX_EXPORT_UPLOAD_BYTES = 64 * 1024 * 1024;

/**
 * Where and how the browser sends one export: a multipart POST of `fields`, then the archive as the
 * `file` field, to `url`. On AWS this is an S3 presigned POST; locally, the server itself.
 */
export interface UploadTicket {
  key: string;
  url: string;
  fields: Record<string, string>;
  maxBytes: number;
  expiresAt: string;
}

/** A platform export to import in a collection run: the uploaded archive and how to read it. */
export interface ExportRequest {
  key: string;
  platform?: 'linkedin' | 'medium' | 'substack';
  /** A Substack publication's address. */
  site?: string;
}

/** Uploaded exports: tickets for the browser, and the archives for the run that imports them. */
export interface ExportUploads {
  ticket(): Promise<UploadTicket>;
  /** The archive's bytes; undefined when nothing was uploaded under the key. */
  read(key: string): Promise<Uint8Array | undefined>;
  /** Forgets an archive once imported (or refused): the writing now lives in the warehouse. */
  remove(key: string): Promise<void>;
}
