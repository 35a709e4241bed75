import type { VectorStore } from '../../ports/vector-store.js';
import type { Settings } from '../../settings/index.js';
import { LanceVectorStore } from './lancedb.js';
import { PrefixedVectorStore } from './prefixed.js';
import { QdrantVectorStore } from './qdrant.js';

/**
 * Opens the configured feature store: embedded LanceDB by default, Qdrant when configured; with a
 * collection prefix when one is set.
 */
export async function openVectorStore(settings: Settings): Promise<VectorStore> {
  const store = await openStore(settings);
  const prefix = settings.vectorStore.collectionPrefix;
  return prefix ? new PrefixedVectorStore(store, prefix) : store;
}

async function openStore(settings: Settings): Promise<VectorStore> {
  if (settings.vectorStore.kind === 'embedded') return LanceVectorStore.open(settings.vectorStore.dir);
  const url = settings.secrets.QDRANT_URL;
  if (!url) throw new Error('QDRANT_URL is not resolved; load settings with loadSettingsWithSecrets');
  return QdrantVectorStore.connect({
    url,
    ...(settings.secrets.QDRANT_API_KEY ? { apiKey: settings.secrets.QDRANT_API_KEY } : {}),
  });
}

export { LanceVectorStore } from './lancedb.js';
export { QdrantVectorStore, VectorStoreError } from './qdrant.js';
export { PrefixedVectorStore } from './prefixed.js';
