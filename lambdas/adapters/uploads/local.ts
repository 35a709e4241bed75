import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  EXPORT_UPLOAD_KEY,
  newExportUploadKey,
  EXPORT_UPLOADS_PREFIX,
  MAX_EXPORT_UPLOAD_BYTES,
  type ExportUploads,
  type UploadTicket,
} from '../../ports/export-uploads.js';

/** How long a ticket is good for, as S3's presigned POST on AWS. */
const TICKET_MS = 10 * 60_000;

/**
 * Uploaded exports on this machine, for `twin serve`: the browser posts the archive to the server
 * itself (POST /exports/uploads), which keeps it in a folder of the data directory until the run
 * that imports it is done. A key is only accepted while its ticket is valid, and only once.
 */
export class LocalExportUploads implements ExportUploads {
  private readonly open = new Map<string, number>();

  constructor(
    private readonly folder: string,
    private readonly uploadUrl = '/exports/uploads',
  ) {}

  ticket(): Promise<UploadTicket> {
    const key = newExportUploadKey();
    const expires = Date.now() + TICKET_MS;
    this.open.set(key, expires);
    return Promise.resolve({
      key,
      url: this.uploadUrl,
      fields: { key },
      maxBytes: MAX_EXPORT_UPLOAD_BYTES,
      expiresAt: new Date(expires).toISOString(),
    });
  }

  /** Whether an upload under this key is expected now (its ticket is valid and unused). */
  accepts(key: string): boolean {
    const expires = this.open.get(key);
    return EXPORT_UPLOAD_KEY.test(key) && expires !== undefined && expires > Date.now();
  }

  async receive(key: string, archive: Buffer): Promise<void> {
    if (!this.accepts(key)) throw new Error(`no upload is expected under ${key}`);
    this.open.delete(key);
    await mkdir(join(this.folder, EXPORT_UPLOADS_PREFIX), { recursive: true });
    await writeFile(this.pathOf(key), archive, { mode: 0o600 });
  }

  async read(key: string): Promise<Buffer | undefined> {
    if (!EXPORT_UPLOAD_KEY.test(key)) return undefined;
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    if (EXPORT_UPLOAD_KEY.test(key)) await rm(this.pathOf(key), { force: true });
  }

  private pathOf(key: string): string {
    return join(this.folder, ...key.split('/'));
  }
}
