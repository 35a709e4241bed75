import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError } from '../domain/index.js';

/** Where a warehouse export is read from: a local folder or the URL of a published folder. */
export interface ExportSource {
  readonly location: string;
  /** The file's text, or undefined when the export has no such file. */
  read(fileName: string): Promise<string | undefined>;
}

/** The book's own warehouse export, published with its code (MIT licence). */
export const BOOK_EXPORT_URL =
  'https://raw.githubusercontent.com/PacktPublishing/LLM-Engineers-Handbook/main/data/data_warehouse_raw_data';

const MAX_FILE_BYTES = 256 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 60_000;

export function openExportSource(location: string): ExportSource {
  return /^https?:\/\//i.test(location) ? urlSource(location) : folderSource(location);
}

export function folderSource(folder: string): ExportSource {
  return {
    location: folder,
    async read(fileName) {
      const folderStat = await stat(folder).catch(() => undefined);
      if (!folderStat?.isDirectory()) {
        throw new InvalidInputError(
          `${folder} is not a folder; pass a warehouse export folder or its URL`,
          'source',
        );
      }
      try {
        return await readFile(join(folder, fileName), 'utf8');
      } catch (error) {
        if (isNodeError(error, 'ENOENT')) return undefined;
        throw error;
      }
    },
  };
}

export function urlSource(baseUrl: string): ExportSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return {
    location: baseUrl,
    async read(fileName) {
      const url = new URL(fileName, base);
      const response = await fetch(url, {
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        redirect: 'follow',
      });
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`GET ${url.href} answered ${response.status} ${response.statusText}`);
      const declared = Number(response.headers.get('content-length') ?? 0);
      if (declared > MAX_FILE_BYTES)
        throw new InvalidInputError(`${url.href} is larger than ${MAX_FILE_BYTES} bytes`);
      const text = await response.text();
      if (Buffer.byteLength(text) > MAX_FILE_BYTES) {
        throw new InvalidInputError(`${url.href} is larger than ${MAX_FILE_BYTES} bytes`);
      }
      return text;
    },
  };
}

function isNodeError(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
