import type { z } from 'zod';
import {
  CATEGORIES,
  describeZodIssues,
  InvalidInputError,
  RECORD_SCHEMAS,
  UserRecordSchema,
  type Category,
  type RawDocument,
  type User,
} from '../domain/index.js';
import type { InsertReport, Warehouse } from '../ports/warehouse.js';
import { ignoreProgress, type ProgressListener } from '../shared/progress.js';
import { CATEGORY_FILES, USERS_FILE } from './export-format.js';
import type { ExportSource } from './sources.js';

export interface ImportReport {
  source: string;
  users: { created: number; existing: number; remapped: number };
  documents: Record<Category, InsertReport>;
  /** Export files that were absent (treated as empty). */
  missingFiles: string[];
}

/** An export failed validation; nothing was written. Each problem names the file and row. */
export class InvalidExportError extends InvalidInputError {
  constructor(readonly problems: string[]) {
    const shown = problems.slice(0, 10);
    const more = problems.length > shown.length ? `\n  ...and ${problems.length - shown.length} more` : '';
    super(`the warehouse export is invalid, nothing was imported:\n  ${shown.join('\n  ')}${more}`, 'source');
  }
}

const BATCH_SIZE = 500;

/**
 * Imports a warehouse export (the book's format) into the warehouse. Every file is parsed and every
 * row validated before anything is written; then users are matched by name (an existing user keeps its
 * id and the imported documents are re-pointed to it) and documents inserted, skipping known links.
 * Importing the same export twice changes nothing.
 */
export async function importWarehouse(
  warehouse: Warehouse,
  source: ExportSource,
  onProgress: ProgressListener = ignoreProgress,
): Promise<ImportReport> {
  const missingFiles: string[] = [];
  const readRows = async (fileName: string): Promise<unknown[]> => {
    const text = await source.read(fileName);
    if (text === undefined) {
      missingFiles.push(fileName);
      return [];
    }
    return parseJsonArray(fileName, text);
  };

  const userRows = await readRows(USERS_FILE);
  if (missingFiles.includes(USERS_FILE)) {
    throw new InvalidExportError([
      `${USERS_FILE}: missing from ${source.location}; is this a warehouse export?`,
    ]);
  }
  const problems: string[] = [];
  const users = validateRows(USERS_FILE, userRows, UserRecordSchema, problems);
  const documents: RawDocument[] = [];
  for (const category of CATEGORIES) {
    const fileName = CATEGORY_FILES[category];
    const schema: z.ZodType<RawDocument> = RECORD_SCHEMAS[category];
    documents.push(...validateRows(fileName, await readRows(fileName), schema, problems));
  }
  problems.push(...(await findUnknownAuthors(warehouse, users, documents)));
  if (problems.length > 0) throw new InvalidExportError(problems);

  const { idMap, report: userReport } = await importUsers(warehouse, users, onProgress);
  const repointed = documents.map((doc) => {
    const authorId = idMap.get(doc.authorId) ?? doc.authorId;
    return authorId === doc.authorId ? doc : { ...doc, authorId };
  });

  const documentReports = {} as Record<Category, InsertReport>;
  for (const category of CATEGORIES) {
    const ofCategory = repointed.filter((doc) => doc.category === category);
    documentReports[category] = await insertInBatches(warehouse, category, ofCategory, onProgress);
  }
  return { source: source.location, users: userReport, documents: documentReports, missingFiles };
}

function parseJsonArray(fileName: string, text: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidExportError([`${fileName}: not valid JSON (${reason})`]);
  }
  if (!Array.isArray(value))
    throw new InvalidExportError([`${fileName}: expected a JSON array of documents`]);
  return value;
}

function validateRows<T>(fileName: string, rows: unknown[], schema: z.ZodType<T>, problems: string[]): T[] {
  const valid: T[] = [];
  rows.forEach((row, index) => {
    const result = schema.safeParse(row);
    if (result.success) valid.push(result.data);
    else
      problems.push(...describeZodIssues(result.error).map((issue) => `${fileName} row ${index}: ${issue}`));
  });
  return valid;
}

async function findUnknownAuthors(warehouse: Warehouse, users: User[], documents: RawDocument[]) {
  const known = new Set(users.map((user) => user.id));
  const problems: string[] = [];
  const rowIndex: Partial<Record<Category, number>> = {};
  for (const doc of documents) {
    const index = (rowIndex[doc.category] = (rowIndex[doc.category] ?? -1) + 1);
    if (known.has(doc.authorId)) continue;
    if (await warehouse.findUserById(doc.authorId)) {
      known.add(doc.authorId);
      continue;
    }
    problems.push(
      `${CATEGORY_FILES[doc.category]} row ${index}: author_id: ${doc.authorId} is neither in ${USERS_FILE} nor in the warehouse`,
    );
  }
  return problems;
}

async function importUsers(warehouse: Warehouse, users: User[], onProgress: ProgressListener) {
  const idMap = new Map<string, string>();
  const report = { created: 0, existing: 0, remapped: 0 };
  for (const [index, user] of users.entries()) {
    const existing = await warehouse.findUserByName(user);
    const stored = existing ?? (await warehouse.getOrCreateUser(user, user.id));
    if (existing) report.existing++;
    else report.created++;
    if (stored.id !== user.id) {
      idMap.set(user.id, stored.id);
      report.remapped++;
    }
    onProgress({ stage: 'users', done: index + 1, total: users.length });
  }
  return { idMap, report };
}

async function insertInBatches(
  warehouse: Warehouse,
  category: Category,
  documents: RawDocument[],
  onProgress: ProgressListener,
): Promise<InsertReport> {
  const report: InsertReport = { inserted: 0, skipped: 0 };
  onProgress({ stage: category, done: 0, total: documents.length });
  for (let start = 0; start < documents.length; start += BATCH_SIZE) {
    const batch = documents.slice(start, start + BATCH_SIZE);
    const result = await warehouse.insertDocuments(batch);
    report.inserted += result.inserted;
    report.skipped += result.skipped;
    onProgress({ stage: category, done: start + batch.length, total: documents.length });
  }
  return report;
}
