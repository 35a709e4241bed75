import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { CATEGORIES, documentToRecord, userToRecord, type Category } from '../domain/index.js';
import type { Warehouse } from '../ports/warehouse.js';
import { ignoreProgress, type ProgressListener } from '../shared/progress.js';
import { CATEGORY_FILES, USERS_FILE } from './export-format.js';
import { toPythonJson } from './python-json.js';

export interface ExportReport {
  folder: string;
  users: number;
  documents: Record<Category, number>;
}

/**
 * Writes the warehouse as the book's export format: one JSON array per class, rows in insertion order.
 * Documents are streamed from the warehouse, and each file appears only once complete (written to a
 * temporary name, then renamed), so a failed export never leaves a truncated file behind.
 */
export async function exportWarehouse(
  warehouse: Warehouse,
  folder: string,
  onProgress: ProgressListener = ignoreProgress,
): Promise<ExportReport> {
  await mkdir(folder, { recursive: true });
  const users = await warehouse.listUsers();
  await writeJsonArray(join(folder, USERS_FILE), toAsync(users.map(userToRecord)));
  onProgress({ stage: 'users', done: users.length, total: users.length });

  const documents = {} as Record<Category, number>;
  for (const category of CATEGORIES) {
    let count = 0;
    const records = async function* () {
      for await (const doc of warehouse.streamDocuments({ category })) {
        count++;
        if (count % 100 === 0) onProgress({ stage: category, done: count, total: Number.NaN });
        yield documentToRecord(doc);
      }
    };
    await writeJsonArray(join(folder, CATEGORY_FILES[category]), records());
    documents[category] = count;
    onProgress({ stage: category, done: count, total: count });
  }
  return { folder, users: users.length, documents };
}

async function writeJsonArray(file: string, rows: AsyncIterable<unknown>): Promise<void> {
  const temporary = `${file}.${randomUUID()}.partial`;
  const out = createWriteStream(temporary, { encoding: 'utf8' });
  const write = async (chunk: string) => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  try {
    await write('[');
    let first = true;
    for await (const row of rows) {
      await write((first ? '' : ', ') + toPythonJson(row));
      first = false;
    }
    await write(']');
    out.end();
    await once(out, 'finish');
    await rename(temporary, file);
  } catch (error) {
    out.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}

async function* toAsync<T>(items: Iterable<T>): AsyncIterable<T> {
  for (const item of items) yield await Promise.resolve(item);
}
