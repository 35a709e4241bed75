import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanceVectorStore, QdrantVectorStore } from '../../lambdas/adapters/vector-store/index.js';
import type { VectorStore } from '../../lambdas/ports/vector-store.js';

/** One test's view of a vector database: a unique collection-name prefix, and the same data reopened. */
export interface VectorStoreFixture {
  store: VectorStore;
  /** Collection names unique to this test (a real Qdrant server is shared between runs). */
  collection(name: string): string;
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
      reopen: open,
      async dispose() {
        for (const store of opened) await store.close().catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

/** Runs against a real Qdrant when QDRANT_URL is set (none can be installed on the build machines). */
export function qdrantVectorStores(env: NodeJS.ProcessEnv = process.env): VectorStoreKind {
  const url = env.QDRANT_URL;
  return {
    name: 'Qdrant',
    available: Boolean(url),
    skipReason: 'set QDRANT_URL (and QDRANT_API_KEY) to run the contract against a Qdrant server',
    async create() {
      const prefix = `twin_test_${randomUUID().slice(0, 8)}_`;
      const connection = { url: url ?? '', ...(env.QDRANT_API_KEY ? { apiKey: env.QDRANT_API_KEY } : {}) };
      const open = () => QdrantVectorStore.connect(connection);
      const created = new Set<string>();
      return {
        store: await open(),
        collection: (name) => {
          created.add(prefix + name);
          return prefix + name;
        },
        reopen: open,
        async dispose() {
          const { QdrantClient } = await import('@qdrant/js-client-rest');
          const admin = new QdrantClient({ ...connection, checkCompatibility: false });
          for (const name of created) await admin.deleteCollection(name).catch(() => undefined);
        },
      };
    },
  };
}

export const allVectorStoreKinds = (): VectorStoreKind[] => [lanceVectorStores, qdrantVectorStores()];
