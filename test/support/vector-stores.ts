import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LanceVectorStore,
  PrefixedVectorStore,
  QdrantVectorStore,
} from '../../lambdas/adapters/vector-store/index.js';
import type { VectorStore } from '../../lambdas/ports/vector-store.js';
import { inject } from 'vitest';
import { IN_CI } from './environment.js';

/** One test's view of a vector database: a unique collection-name prefix, and the same data reopened. */
export interface VectorStoreFixture {
  store: VectorStore;
  /** Collection names unique to this test (a real Qdrant server is shared between runs). */
  collection(name: string): string;
  /**
   * The store with every collection name passed through `collection`, for code that names its own
   * collections (the feature store): parallel tests on one server never see each other's data.
   */
  isolated(): VectorStore;
  reopen(): Promise<VectorStore>;
  dispose(): Promise<void>;
}

export interface VectorStoreKind {
  name: string;
  available: boolean;
  /** Why the kind is skipped when unavailable. */
  skipReason?: string;
  create(): Promise<VectorStoreFixture>;
}

export const lanceVectorStores: VectorStoreKind = {
  name: 'embedded (LanceDB)',
  available: true,
  async create() {
    const dir = await mkdtemp(join(tmpdir(), 'twin-vectors-'));
    const opened: VectorStore[] = [];
    const open = async () => {
      const store = await LanceVectorStore.open(dir);
      opened.push(store);
      return store;
    };
    return {
      store: await open(),
      collection: (name) => name,
      isolated: () => opened[0] as VectorStore,
      reopen: open,
      async dispose() {
        for (const store of opened) await store.close().catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

/**
 * A real Qdrant server: QDRANT_URL, or the binary the global setup starts (test/support/
 * qdrant-global-setup.ts). Under CI a missing server fails the run instead of skipping.
 */
export function qdrantVectorStores(env: NodeJS.ProcessEnv = process.env): VectorStoreKind {
  const url = inject('qdrantUrl');
  if (!url && IN_CI) {
    throw new Error(
      'no Qdrant server for the tests: .ci/run must start ../shared/bin/qdrant and set QDRANT_URL',
    );
  }
  return {
    name: 'Qdrant',
    available: Boolean(url),
    skipReason:
      'no Qdrant server: set QDRANT_URL, or TWIN_QDRANT_BIN to a Qdrant binary (or docker run -p 6333:6333 qdrant/qdrant)',
    async create() {
      const prefix = `twin_test_${randomUUID().slice(0, 8)}_`;
      const connection = { url, ...(env.QDRANT_API_KEY ? { apiKey: env.QDRANT_API_KEY } : {}) };
      const open = () => QdrantVectorStore.connect(connection);
      const collection = (name: string) => prefix + name;
      const store = await open();
      // Code that names its own collections (the feature store) gets them behind the prefix too.
      const isolated = new PrefixedVectorStore(store, prefix);
      return {
        store,
        collection,
        isolated: () => isolated,
        reopen: open,
        async dispose() {
          const { QdrantClient } = await import('@qdrant/js-client-rest');
          const admin = new QdrantClient({ ...connection, checkCompatibility: false });
          // Every collection this test made, whoever named it, is behind its prefix.
          const { collections } = await admin.getCollections();
          for (const { name } of collections.filter(({ name }) => name.startsWith(prefix))) {
            await admin.deleteCollection(name).catch(() => undefined);
          }
        },
      };
    },
  };
}

export const allVectorStoreKinds = (): VectorStoreKind[] => [lanceVectorStores, qdrantVectorStores()];
