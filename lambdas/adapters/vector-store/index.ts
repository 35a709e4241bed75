import type { VectorStore } from '../../ports/vector-store.js';
import type { Settings } from '../../settings/index.js';
import { LanceVectorStore } from './lancedb.js';
import { QdrantVectorStore } from './qdrant.js';

/** Opens the configured feature store: embedded LanceDB by default, Qdrant when configured. */
export async function openVectorStore(settings: Settings): Promise<VectorStore> {
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
