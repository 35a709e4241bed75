import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ggufProblem } from './gguf-file.js';

export interface GgufDownload {
  /** The Hub's address (HF_ENDPOINT); a mirror may stand in. */
  hubUrl: string;
  repo: string;
  path: string;
  /** Where the file goes; it appears there only once complete and checked. */
  file: string;
  sha256?: string;
  token?: string;
  onProgress?: (receivedBytes: number, totalBytes: number) => void;
}

/**
 * Fetches a GGUF file from a Hugging Face model repository (its `resolve/main` address), streaming
 * it to a partial file that becomes the model only after it is checked: GGUF, and the sha256 when
 * one is given. A failed or refused download leaves nothing behind.
 */
export async function downloadGguf(download: GgufDownload): Promise<void> {
  const url = `${download.hubUrl.replace(/\/+$/u, '')}/${download.repo}/resolve/main/${download.path}`;
  const response = await fetch(url, {
    headers: download.token ? { authorization: `Bearer ${download.token}` } : {},
  });
  if (!response.ok || !response.body) {
    const hint =
      response.status === 401 || response.status === 403 || response.status === 404
        ? ' (a private or gated repository needs HF_TOKEN; check the repository and file name)'
        : '';
    throw new Error(`download of ${url} failed: HTTP ${String(response.status)}${hint}`);
  }
  const total = Number(response.headers.get('content-length') ?? Number.NaN);
  const partial = `${download.file}.partial`;
  await mkdir(dirname(download.file), { recursive: true });
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      download.onProgress?.(received, total);
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      counter,
      createWriteStream(partial),
    );
    if (Number.isFinite(total) && received !== total) {
      throw new Error(`download of ${url} ended after ${String(received)} of ${String(total)} bytes`);
    }
    const problem = await ggufProblem(partial, download.sha256);
    if (problem !== undefined) throw new Error(`what ${url} sent ${problem}`);
    await rename(partial, download.file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
