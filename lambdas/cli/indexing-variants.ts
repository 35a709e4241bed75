import type { IndexingVariant } from '../evaluation/fusion-selection.js';
import { runFeaturePipeline } from '../features/pipeline.js';
import { openFeatureServices } from '../features/services.js';
import type { LexicalIndexing } from '../features/lexical-terms.js';
import type { Embedder } from '../ports/embedder.js';
import type { Warehouse } from '../ports/warehouse.js';
import { openRetriever } from '../rag/open-service.js';
import type { Settings } from '../settings/index.js';
import { progressBar } from './progress-bar.js';

/** The keyword indexings cross-validated against the served one (stemmer and titles both on). */
export const OTHER_INDEXINGS: readonly { label: string; indexing: LexicalIndexing }[] = [
  { label: 'no stemmer', indexing: { stemming: false, titles: true } },
  { label: 'no titles', indexing: { stemming: true, titles: false } },
  { label: 'no stemmer, no titles', indexing: { stemming: false, titles: false } },
];

/**
 * The warehouse featurised again once per other indexing, each into its own collections beside the
 * scratch store's (a collection prefix per variant), with a retriever over each. The embedder is
 * shared. `close` drops what was written and closes the stores.
 */
export async function openIndexingVariants(
  settings: Settings,
  warehouse: Warehouse,
  embedder: Embedder,
): Promise<{ variants: IndexingVariant[]; close(): Promise<void> }> {
  const opened: { variant: IndexingVariant; close(): Promise<void> }[] = [];
  const close = async () => {
    for (const entry of opened.splice(0)) await entry.close();
  };
  try {
    for (const [index, { label, indexing }] of OTHER_INDEXINGS.entries()) {
      const variantSettings: Settings = {
        ...settings,
        vectorStore: {
          ...settings.vectorStore,
          collectionPrefix: `${settings.vectorStore.collectionPrefix ?? ''}indexing${String(index + 1)}_`,
        },
      };
      const services = await openFeatureServices(variantSettings, embedder, indexing);
      const closeServices = async () => {
        if (variantSettings.vectorStore.kind === 'qdrant') await services.features.dropCollections();
        await services.close();
      };
      try {
        process.stderr.write(`Featurising again with keyword indexing: ${label}\n`);
        await runFeaturePipeline({ warehouse, ...services }, {}, progressBar());
        const opening = await openRetriever(variantSettings, {
          authors: warehouse,
          featureServices: services,
        });
        opened.push({
          variant: { label, retriever: opening.retriever },
          close: async () => {
            await opening.close();
            await closeServices();
          },
        });
      } catch (error) {
        await closeServices();
        throw error;
      }
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { variants: opened.map((entry) => entry.variant), close };
}
