import { InvalidInputError, splitFullName, type RawDocument, type User } from '../../domain/index.js';
import type { Warehouse } from '../../ports/warehouse.js';
import { articleDocument, postDocument } from '../crawlers/documents.js';
import { DEFAULT_ARCHIVE_LIMITS, openExportArchive, type ArchiveLimits } from './archive.js';
import { linkedinExport } from './linkedin.js';
import { mediumExport } from './medium.js';
import type { ExportedItem, ExportPlatform, ExportProblem, ExportReader, SkipReason } from './reading.js';
import { substackExport } from './substack.js';

export const EXPORT_READERS: readonly ExportReader[] = [linkedinExport, mediumExport, substackExport];

export interface ExportImportOptions {
  /** Whose writing this is ("First Last"). */
  author: string;
  /** Skips detection (for an archive laid out unusually). */
  platform?: ExportPlatform;
  /** The publication's address, for Substack. */
  site?: string;
  limits?: ArchiveLimits;
}

export interface ExportImportReport {
  platform: ExportPlatform;
  author: User;
  /** Posts and articles found in the export. */
  found: number;
  inserted: number;
  /** Found, but their link (or id) is already stored: a re-import adds nothing. */
  alreadyThere: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Rows and files that could not be read, by file and line; the rest was imported. */
  problems: ExportProblem[];
}

/**
 * Imports a platform export (a zip file, its bytes, or the folder it unpacks to) into the warehouse
 * as the author's posts and articles. The whole archive is checked and read before anything is
 * written: a refused archive (ArchiveRefusedError) writes nothing, not even the author. Links are
 * the identity, as for crawls, so importing the same export again adds nothing.
 */
export async function importExport(
  warehouse: Warehouse,
  source: string | Buffer,
  options: ExportImportOptions,
): Promise<ExportImportReport> {
  const name = splitFullName(options.author);
  const archive = await openExportArchive(source, options.limits ?? DEFAULT_ARCHIVE_LIMITS);
  try {
    const reader = readerFor(archive.paths, options.platform);
    const reading = await reader.read(archive, options.site ? { site: options.site } : {});
    const author = await warehouse.getOrCreateUser(name);
    const problems = [...reading.problems];
    const documents: RawDocument[] = [];
    for (const item of reading.items) {
      try {
        documents.push(toDocument(item, author, reader.platform));
      } catch (error) {
        problems.push({
          file: item.link ?? 'a post',
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
    const stored = await warehouse.insertDocuments(documents);
    return {
      platform: reader.platform,
      author,
      found: reading.items.length,
      inserted: stored.inserted,
      alreadyThere: stored.skipped,
      skipped: reading.skipped,
      problems,
    };
  } finally {
    await archive.close();
  }
}

/** The reader the caller named, or the one whose layout the archive has (exactly one must match). */
function readerFor(paths: readonly string[], platform: ExportPlatform | undefined): ExportReader {
  if (platform) {
    const named = EXPORT_READERS.find((reader) => reader.platform === platform);
    if (!named) throw new InvalidInputError(`no export reader for ${platform}`, 'platform');
    return named;
  }
  const matching = EXPORT_READERS.filter((reader) => reader.recognizes(paths));
  if (matching.length === 1 && matching[0]) return matching[0];
  if (matching.length > 1) {
    throw new InvalidInputError(
      `the export looks like more than one platform's (${matching.map((reader) => reader.platform).join(', ')}): say which with --platform`,
      'platform',
    );
  }
  throw new InvalidInputError(
    'not a LinkedIn, Medium or Substack export: expected Shares.csv or Articles/Articles/*.html (LinkedIn), ' +
      'posts/*.html (Medium), or posts.csv with posts/*.html (Substack); name the platform with --platform if the layout differs',
    'export',
  );
}

function toDocument(item: ExportedItem, author: User, platform: ExportPlatform): RawDocument {
  if (item.category === 'articles') {
    const article = { title: item.title, subtitle: item.subtitle, content: item.text, language: null };
    return articleDocument(author, platform, item.link, article, item.publishedAt);
  }
  const { category: _category, ...post } = item;
  return postDocument(author, platform, item.link ?? item.text, post);
}
