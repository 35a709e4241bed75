import { performance } from 'node:perf_hooks';
import {
  CATEGORIES,
  fullNameOf,
  type Category,
  type EmbeddedChunk,
  type RawDocument,
} from '../domain/index.js';
import type { Embedder } from '../ports/embedder.js';
import type { Warehouse } from '../ports/warehouse.js';
import { ignoreProgress, type ProgressListener } from '../shared/progress.js';
import { chunkDocument } from './chunking.js';
import { cleanDocumentWithOriginal } from './cleaning.js';
import type { FeatureStore } from './feature-store.js';

/** Bump when cleaning or chunking changes: every document is then processed again on the next run. */
export const FEATURE_PIPELINE_VERSION = 'features-v1';
const DOCUMENTS_PER_BATCH = 16;

export interface FeatureDependencies {
  warehouse: Warehouse;
  features: FeatureStore;
  embedder: Embedder;
}

export interface StageTimings {
  readMs: number;
  cleanMs: number;
  chunkMs: number;
  embedMs: number;
  loadMs: number;
}

export interface BatchReport {
  documents: number;
  /** Documents whose stored features were already current: nothing was written for them. */
  unchanged: number;
  /** Documents cleaned, chunked, embedded and loaded. */
  processed: number;
  chunks: number;
  timings: StageTimings;
}

export interface CategoryReport extends BatchReport {
  /** Documents read, per author full name. */
  byAuthor: Record<string, number>;
}

export interface FeatureRunSummary {
  categories: Record<Category, CategoryReport>;
  /**
   * Categories whose chunks cannot be searched by keyword after the run: their collection predates
   * lexical search and the store cannot add the index in place (Qdrant); `twin features --rebuild`.
   */
  missingLexicalIndex: Category[];
  totalMs: number;
}

export interface FeatureRunOptions {
  /** Only these authors' documents; everyone's when absent. */
  authorIds?: readonly string[];
  categories?: readonly Category[];
}

const emptyTimings = (): StageTimings => ({ readMs: 0, cleanMs: 0, chunkMs: 0, embedMs: 0, loadMs: 0 });

function timed<T>(timings: StageTimings, stage: keyof StageTimings, work: () => T): T {
  const started = performance.now();
  try {
    return work();
  } finally {
    timings[stage] += performance.now() - started;
  }
}

async function timedAsync<T>(
  timings: StageTimings,
  stage: keyof StageTimings,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    timings[stage] += performance.now() - started;
  }
}

/**
 * Brings the features of some documents of one category up to date: documents whose content hash
 * matches the stored one are skipped; the others are cleaned, chunked, embedded and loaded. Safe to
 * re-run at any point: a document's cleaned record (with its hash) is written only after its chunks.
 */
export async function featurizeDocuments(
  { features, embedder }: Omit<FeatureDependencies, 'warehouse'>,
  category: Category,
  documents: readonly RawDocument[],
  storedHashes?: ReadonlyMap<string, string>,
): Promise<BatchReport> {
  const timings = emptyTimings();
  const hashes =
    storedHashes ??
    (await timedAsync(timings, 'loadMs', () =>
      features.storedHashes(category, { documentIds: documents.map((document) => document.id) }),
    ));
  const version = pipelineVersion(embedder);

  const cleaned = timed(timings, 'cleanMs', () =>
    documents.map((document) => cleanDocumentWithOriginal(document, version)),
  );
  const changedSources = cleaned.filter(
    ({ document }) => hashes.get(document.documentId) !== document.contentHash,
  );
  const changed = changedSources.map(({ document }) => document);
  const chunked = timed(timings, 'chunkMs', () =>
    changedSources.map(({ document, ...source }) => ({
      document,
      chunks: chunkDocument(document, embedder.tokenizer, source),
    })),
  );
  const texts = chunked.flatMap(({ chunks }) => chunks.map((chunk) => chunk.content));
  const vectors = await timedAsync(timings, 'embedMs', () => embedder.embed(texts));

  await timedAsync(timings, 'loadMs', async () => {
    let next = 0;
    const replaced = chunked.map(({ document, chunks }) => ({
      documentId: document.documentId,
      chunks: chunks.map((chunk): EmbeddedChunk => ({
        ...chunk,
        embedding: vectors[next++] ?? [],
        embeddingModel: embedder.model,
      })),
    }));
    await features.replaceChunks(category, replaced);
    await features.saveCleaned(category, changed);
  });

  return {
    documents: documents.length,
    unchanged: documents.length - changed.length,
    processed: changed.length,
    chunks: texts.length,
    timings,
  };
}

/** What a document's features depend on besides its content: the pipeline and the embedding model. */
export function pipelineVersion(embedder: Pick<Embedder, 'model'>): string {
  return `${FEATURE_PIPELINE_VERSION}/${embedder.model.id}/${String(embedder.model.maxInputLength)}`;
}

/**
 * The feature pipeline: streams the selected documents from the warehouse category by category, in
 * batches, and brings their features up to date. A re-run over an unchanged warehouse writes nothing.
 */
export async function runFeaturePipeline(
  dependencies: FeatureDependencies,
  options: FeatureRunOptions = {},
  onProgress: ProgressListener = ignoreProgress,
): Promise<FeatureRunSummary> {
  const started = performance.now();
  const { warehouse, features } = dependencies;
  await features.ensureCollections();
  const categories = options.categories ?? CATEGORIES;
  const total = await documentCount(warehouse, categories, options.authorIds);
  let done = 0;
  onProgress({ stage: 'features', done, total });

  const reports = {} as Record<Category, CategoryReport>;
  const missingLexicalIndex: Category[] = [];
  for (const category of CATEGORIES) {
    const report: CategoryReport = {
      documents: 0,
      unchanged: 0,
      processed: 0,
      chunks: 0,
      timings: emptyTimings(),
      byAuthor: {},
    };
    reports[category] = report;
    if (!categories.includes(category)) continue;

    const filter = options.authorIds ? { authorIds: options.authorIds } : {};
    const hashes = await timedAsync(report.timings, 'loadMs', () => features.storedHashes(category, filter));
    const stream = warehouse.streamDocuments({ category, ...filter })[Symbol.asyncIterator]();
    for (;;) {
      const batch = await timedAsync(report.timings, 'readMs', () => nextBatch(stream, DOCUMENTS_PER_BATCH));
      if (batch.length === 0) break;
      const batchReport = await featurizeDocuments(dependencies, category, batch, hashes);
      addBatch(report, batchReport, batch);
      done += batch.length;
      onProgress({ stage: 'features', done, total });
    }
    const ready = await timedAsync(report.timings, 'loadMs', () =>
      refreshLexicalIndex(features, category, report.processed > 0),
    );
    if (!ready && report.documents > 0) missingLexicalIndex.push(category);
  }
  return { categories: reports, missingLexicalIndex, totalMs: performance.now() - started };
}

/**
 * Brings a category's keyword index up to date after a run: only when the run wrote chunks or the
 * index is missing (a store from before lexical search), so an unchanged re-run writes nothing.
 * False when the store still has no index (Qdrant cannot add one to an existing collection).
 */
export async function refreshLexicalIndex(
  features: FeatureStore,
  category: Category,
  wroteChunks: boolean,
): Promise<boolean> {
  const indexed = await features.hasLexicalIndex(category);
  if (!wroteChunks && indexed) return true;
  await features.refreshLexicalIndex(category);
  return indexed || (await features.hasLexicalIndex(category));
}

async function nextBatch<T>(iterator: AsyncIterator<T>, size: number): Promise<T[]> {
  const batch: T[] = [];
  while (batch.length < size) {
    const next = await iterator.next();
    if (next.done) break;
    batch.push(next.value);
  }
  return batch;
}

function addBatch(report: CategoryReport, batch: BatchReport, documents: readonly RawDocument[]): void {
  report.documents += batch.documents;
  report.unchanged += batch.unchanged;
  report.processed += batch.processed;
  report.chunks += batch.chunks;
  for (const stage of Object.keys(batch.timings) as (keyof StageTimings)[])
    report.timings[stage] += batch.timings[stage];
  for (const document of documents) {
    report.byAuthor[document.authorFullName] = (report.byAuthor[document.authorFullName] ?? 0) + 1;
  }
}

async function documentCount(
  warehouse: Warehouse,
  categories: readonly Category[],
  authorIds: readonly string[] | undefined,
): Promise<number> {
  const stats = await warehouse.stats();
  const names = authorIds
    ? new Set(
        (await Promise.all(authorIds.map((id) => warehouse.findUserById(id)))).map(
          (user) => user && fullNameOf(user),
        ),
      )
    : undefined;
  let count = 0;
  for (const category of categories) {
    const { total, byAuthor } = stats.categories[category];
    count += names
      ? Object.entries(byAuthor).reduce((sum, [name, n]) => sum + (names.has(name) ? n : 0), 0)
      : total;
  }
  return count;
}
