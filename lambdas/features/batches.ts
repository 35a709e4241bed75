import { CATEGORIES, type Category } from '../domain/index.js';
import type { Embedder } from '../ports/embedder.js';
import type { Warehouse } from '../ports/warehouse.js';
import { contentHash } from './cleaning.js';
import type { FeatureCounts, FeatureStore } from './feature-store.js';
import { pipelineVersion, refreshLexicalIndex, type BatchReport } from './pipeline.js';

export interface DocumentBatch {
  category: Category;
  documentIds: string[];
}

export interface FeaturePlan {
  /** Documents read from the warehouse. */
  documents: number;
  /** Documents whose stored features are current, left out of every batch. */
  unchanged: number;
  batches: DocumentBatch[];
}

/**
 * Plans a distributed run: the ids of the selected documents that are new or changed since their
 * features were stored, in batches small enough for one function invocation each. Unchanged
 * documents are dropped here, so a run over an unchanged warehouse starts no batch at all.
 */
export async function planFeatureBatches(
  {
    warehouse,
    features,
    embedder,
  }: { warehouse: Warehouse; features: FeatureStore; embedder: Pick<Embedder, 'model'> },
  options: { authorIds?: readonly string[]; categories?: readonly Category[]; batchSize: number },
): Promise<FeaturePlan> {
  const version = pipelineVersion(embedder);
  const plan: FeaturePlan = { documents: 0, unchanged: 0, batches: [] };
  for (const category of options.categories ?? CATEGORIES) {
    const filter = options.authorIds ? { authorIds: options.authorIds } : {};
    const stored = await features.storedHashes(category, filter);
    let batch: string[] = [];
    for await (const document of warehouse.streamDocuments({ category, ...filter })) {
      plan.documents += 1;
      if (stored.get(document.id) === contentHash(document, version)) {
        plan.unchanged += 1;
        continue;
      }
      batch.push(document.id);
      if (batch.length === options.batchSize) {
        plan.batches.push({ category, documentIds: batch });
        batch = [];
      }
    }
    if (batch.length > 0) plan.batches.push({ category, documentIds: batch });
  }
  return plan;
}

/** A batch the workflow gave up on after its retries (the Map state's catch records it). */
export interface FailedBatch extends DocumentBatch {
  failed: true;
  error: { Error?: string; Cause?: string };
}

export type BatchOutcome = (BatchReport & { category: Category }) | FailedBatch;

export interface FeatureRunTotals {
  batches: number;
  documents: number;
  processed: number;
  unchanged: number;
  chunks: number;
  failedBatches: FailedBatch[];
  /** Categories with chunks but no keyword index: the collection must be rebuilt (twin features --rebuild). */
  missingLexicalIndex: Category[];
  featureStore: FeatureCounts;
}

export async function summarizeFeatureRun(
  features: FeatureStore,
  outcomes: readonly BatchOutcome[],
  unchangedAtPlanning = 0,
): Promise<FeatureRunTotals> {
  const totals: FeatureRunTotals = {
    batches: outcomes.length,
    documents: unchangedAtPlanning,
    processed: 0,
    unchanged: unchangedAtPlanning,
    chunks: 0,
    failedBatches: [],
    missingLexicalIndex: [],
    featureStore: await features.counts(),
  };
  const written = new Set<Category>();
  for (const outcome of outcomes) {
    if (!('failed' in outcome) && outcome.processed > 0) written.add(outcome.category);
  }
  for (const category of CATEGORIES) {
    const ready = await refreshLexicalIndex(features, category, written.has(category));
    if (!ready && totals.featureStore.embedded[category] > 0) totals.missingLexicalIndex.push(category);
  }
  for (const outcome of outcomes) {
    if ('failed' in outcome) {
      totals.failedBatches.push(outcome);
      totals.documents += outcome.documentIds.length;
      continue;
    }
    totals.documents += outcome.documents;
    totals.processed += outcome.processed;
    totals.unchanged += outcome.unchanged;
    totals.chunks += outcome.chunks;
  }
  return totals;
}
