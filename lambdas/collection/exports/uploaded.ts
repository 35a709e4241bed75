import { z } from 'zod';
import { HttpUrlSchema, InvalidInputError } from '../../domain/index.js';
import type { ExportOutcome } from '../../ports/collection-runs.js';
import { EXPORT_UPLOAD_KEY, type ExportRequest, type ExportUploads } from '../../ports/export-uploads.js';
import type { Warehouse } from '../../ports/warehouse.js';
import { importExport, type ExportImportReport } from './import.js';
import { EXPORT_PLATFORMS } from './reading.js';

/** An uploaded export to import, as a run request names it. */
export const ExportRequestSchema = z.strictObject({
  key: z.string().regex(EXPORT_UPLOAD_KEY, 'must be the key of an upload ticket (POST /exports)'),
  platform: z.enum(EXPORT_PLATFORMS, { error: `must be one of ${EXPORT_PLATFORMS.join(', ')}` }).optional(),
  site: HttpUrlSchema.optional(),
});

/**
 * Imports an export the web app uploaded, for a collection run (locally, or in the ETL workflow on
 * AWS). The archive is removed once imported (its writing is in the warehouse) or refused (it must
 * not linger); after a failure of the warehouse it is kept, so that a retry can import it.
 */
export async function importUploadedExport(
  warehouse: Warehouse,
  uploads: ExportUploads,
  author: string,
  request: ExportRequest,
): Promise<ExportImportReport> {
  const archive = await uploads.read(request.key);
  if (!archive) {
    throw new InvalidInputError(
      `nothing was uploaded as ${request.key}: upload the export first (an upload ticket is good for 10 minutes)`,
      'export',
    );
  }
  let report: ExportImportReport;
  try {
    report = await importExport(
      warehouse,
      Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength),
      {
        author,
        ...(request.platform ? { platform: request.platform } : {}),
        ...(request.site ? { site: request.site } : {}),
      },
    );
  } catch (error) {
    // A refused archive goes; after any other failure it stays for the retry (the bucket expires it).
    if (error instanceof InvalidInputError) await uploads.remove(request.key);
    throw error;
  }
  await uploads.remove(request.key);
  return report;
}

/** The report as a run shows it (without the author record). */
export function exportOutcome(report: ExportImportReport): ExportOutcome {
  return {
    platform: report.platform,
    found: report.found,
    inserted: report.inserted,
    alreadyThere: report.alreadyThere,
    skipped: Object.fromEntries(Object.entries(report.skipped)),
    problems: report.problems,
  };
}
