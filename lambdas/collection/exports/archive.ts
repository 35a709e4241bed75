import { constants } from 'node:fs';
import { lstat, open as openFile, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { InvalidInputError } from '../../domain/index.js';

/** Bounds on an export archive: it is untrusted input, uploaded or downloaded by the user. */
export interface ArchiveLimits {
  /** The zip file itself (or a folder's files together). */
  maxArchiveBytes: number;
  maxEntries: number;
  /** One file, unpacked. */
  maxEntryBytes: number;
  /** Everything read from the archive, unpacked. */
  maxTotalBytes: number;
  /** Unpacked size over packed size of one entry; more is a zip bomb. Text packs about 3-10x. */
  maxRatio: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxArchiveBytes: 512 * 1024 * 1024,
  maxEntries: 50_000,
  maxEntryBytes: 32 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
  maxRatio: 100,
};

/** Entries smaller than this are never judged by their ratio (a tiny file of spaces packs 500x). */
const RATIO_FLOOR_BYTES = 64 * 1024;

/** An archive that is refused as a whole, before anything from it is written. */
export class ArchiveRefusedError extends InvalidInputError {
  constructor(message: string) {
    super(message, 'export');
  }
}

/** The files of an export, by their path inside it ("/"-separated, no leading "./"). */
export interface ExportArchive {
  readonly paths: readonly string[];
  /** The file's bytes; counted against the limits. */
  read(path: string): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * Opens a platform export, a zip file (path or bytes) or an unpacked folder, and checks all of it
 * before a single entry is read: entry count, sizes, compression ratios, names that climb out of the
 * archive (`..`, absolute paths; yauzl refuses those) and symbolic links. Any of these refuses the
 * whole archive.
 */
export async function openExportArchive(
  source: string | Buffer,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<ExportArchive> {
  if (Buffer.isBuffer(source)) return openZip(source, limits);
  const info = await stat(source).catch(() => {
    throw new InvalidInputError(
      `no export at ${source}: give the zip file or the folder it unpacks to`,
      'export',
    );
  });
  return info.isDirectory() ? openFolder(source, limits) : openZip(source, limits);
}

const ZIP_OPTIONS = {
  lazyEntries: true,
  autoClose: false,
  decodeStrings: true,
  validateEntrySizes: true,
  strictFileNames: true,
};

async function openZip(source: string | Buffer, limits: ArchiveLimits): Promise<ExportArchive> {
  const size = Buffer.isBuffer(source) ? source.length : (await stat(source)).size;
  if (size > limits.maxArchiveBytes)
    throw new ArchiveRefusedError(
      `the archive is ${mib(size)}, over the ${mib(limits.maxArchiveBytes)} limit`,
    );
  let zip: yauzl.ZipFile;
  try {
    zip = Buffer.isBuffer(source)
      ? await yauzl.fromBufferPromise(source, ZIP_OPTIONS)
      : await yauzl.openPromise(source, ZIP_OPTIONS);
  } catch (error) {
    throw new ArchiveRefusedError(`not a readable zip archive (${reasonOf(error)})`);
  }
  const entries = new Map<string, yauzl.Entry>();
  try {
    if (zip.entryCount > limits.maxEntries)
      throw new ArchiveRefusedError(
        `the archive holds ${String(zip.entryCount)} entries, over the ${String(limits.maxEntries)} limit`,
      );
    for await (const entry of zip.eachEntry()) {
      const path = entry.fileName.replace(/^(\.\/)+/u, '');
      if (path.endsWith('/')) continue;
      checkZipEntry(path, entry, limits);
      entries.set(path, entry);
    }
  } catch (error) {
    zip.close();
    if (error instanceof ArchiveRefusedError) throw error;
    // yauzl's own checks: a name with "..", an absolute path, a backslash, a broken directory.
    throw new ArchiveRefusedError(`the archive is malformed or unsafe: ${reasonOf(error)}`);
  }
  const budget = readBudget(limits);
  return {
    paths: [...entries.keys()],
    async read(path) {
      const entry = entries.get(path);
      if (!entry) throw new InvalidInputError(`the archive has no ${path}`, 'export');
      const stream = await zip.openReadStreamPromise(entry).catch((error: unknown) => {
        throw new ArchiveRefusedError(`${path} could not be unpacked: ${reasonOf(error)}`);
      });
      return budget.collect(path, stream);
    },
    close() {
      zip.close();
      return Promise.resolve();
    },
  };
}

/** Unix mode bits live in the high half of the external attributes of zips made on Unix. */
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

function checkZipEntry(path: string, entry: yauzl.Entry, limits: ArchiveLimits): void {
  if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK)
    throw new ArchiveRefusedError(`the archive holds a symbolic link (${path}); exports never do`);
  if (entry.uncompressedSize > limits.maxEntryBytes)
    throw new ArchiveRefusedError(
      `${path} unpacks to ${mib(entry.uncompressedSize)}, over the ${mib(limits.maxEntryBytes)} limit`,
    );
  const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
  if (entry.uncompressedSize > RATIO_FLOOR_BYTES && ratio > limits.maxRatio) {
    throw new ArchiveRefusedError(
      `${path} would unpack ${String(Math.round(ratio))} times its packed size (the limit is ${String(limits.maxRatio)}): refused as a zip bomb`,
    );
  }
}

async function openFolder(root: string, limits: ArchiveLimits): Promise<ExportArchive> {
  const files = new Map<string, string>();
  let total = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const item of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, item.name);
      const path = relative(root, full).split(sep).join('/');
      if (item.isSymbolicLink())
        throw new ArchiveRefusedError(
          `the export folder holds a symbolic link (${path}); it is not followed`,
        );
      if (item.isDirectory()) {
        await walk(full);
        continue;
      }
      if (!item.isFile()) continue;
      if (files.size >= limits.maxEntries)
        throw new ArchiveRefusedError(`the export folder holds over ${String(limits.maxEntries)} files`);
      const size = (await lstat(full)).size;
      if (size > limits.maxEntryBytes)
        throw new ArchiveRefusedError(`${path} is ${mib(size)}, over the ${mib(limits.maxEntryBytes)} limit`);
      total += size;
      if (total > limits.maxArchiveBytes)
        throw new ArchiveRefusedError(`the export folder is over the ${mib(limits.maxArchiveBytes)} limit`);
      files.set(path, full);
    }
  };
  await walk(root);
  const budget = readBudget(limits);
  return {
    paths: [...files.keys()],
    async read(path) {
      const full = files.get(path);
      if (!full) throw new InvalidInputError(`the export has no ${path}`, 'export');
      // O_NOFOLLOW: a file swapped for a link after the walk is still not followed.
      const handle = await openFile(full, constants.O_RDONLY | constants.O_NOFOLLOW).catch(
        (error: unknown) => {
          throw new ArchiveRefusedError(`${path} could not be read safely: ${reasonOf(error)}`);
        },
      );
      try {
        return await budget.collect(path, handle.createReadStream({ autoClose: false }));
      } finally {
        await handle.close();
      }
    },
    close: () => Promise.resolve(),
  };
}

/** Counts what is unpacked, per entry and in all, and stops a stream that goes over. */
function readBudget(limits: ArchiveLimits) {
  let total = 0;
  return {
    async collect(path: string, stream: Readable): Promise<Buffer> {
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          size += chunk.length;
          total += chunk.length;
          if (size > limits.maxEntryBytes)
            throw new ArchiveRefusedError(`${path} unpacks to more than ${mib(limits.maxEntryBytes)}`);
          if (total > limits.maxTotalBytes)
            throw new ArchiveRefusedError(`the archive unpacks to more than ${mib(limits.maxTotalBytes)}`);
          chunks.push(chunk);
        }
      } catch (error) {
        stream.destroy();
        if (error instanceof ArchiveRefusedError) throw error;
        // yauzl's size validation: the entry holds more or less than its header declares.
        throw new ArchiveRefusedError(`${path} could not be unpacked: ${reasonOf(error)}`);
      }
      return Buffer.concat(chunks);
    },
  };
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
