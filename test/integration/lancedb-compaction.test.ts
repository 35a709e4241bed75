import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@lancedb/lancedb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import { LanceVectorStore } from '../../lambdas/adapters/vector-store/index.js';
import { FeatureStore } from '../../lambdas/features/feature-store.js';
import { runFeaturePipeline } from '../../lambdas/features/pipeline.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { embeddingModelAvailable, realEmbedder } from '../support/models.js';
import { referenceArticles } from '../support/reference-corpus.js';

/** How many data files the table's rows sit in (every write adds one until the table is compacted). */
async function dataFiles(folder: string, table: string): Promise<number> {
  const db = await connect(folder);
  try {
    return (await (await db.openTable(table)).stats()).fragmentStats.numFragments;
  } finally {
    db.close();
  }
}

describe.runIf(embeddingModelAvailable() && referenceCorpusAvailable())(
  'the feature pipeline compacts the embedded store it wrote',
  () => {
    let dir: string;
    let warehouse: EmbeddedWarehouse;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'twin-compaction-'));
      warehouse = new EmbeddedWarehouse(join(dir, 'warehouse.sqlite'));
    });
    afterEach(async () => {
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('leaves the chunks of many documents in one data file, all of them still found', async () => {
      const articles = referenceArticles()
        .filter((article) => article.authorFullName === 'Paul Iusztin')
        .sort((a, b) => (a.content.Content?.length ?? 0) - (b.content.Content?.length ?? 0))
        .slice(0, 6);
      const [first] = articles;
      if (!first) throw new Error('no reference article');
      await warehouse.getOrCreateUser({ firstName: 'Paul', lastName: 'Iusztin' }, first.authorId);
      await warehouse.insertDocuments(articles);
      const folder = join(dir, 'vectors');
      const store = await LanceVectorStore.open(folder);
      const embedder = await realEmbedder();
      const features = new FeatureStore(store, embedder.model);
      try {
        const summary = await runFeaturePipeline({ warehouse, features, embedder });
        expect(summary.categories.articles.processed).toBe(6);

        // Each document was written on its own, yet the run leaves one file behind.
        expect(await dataFiles(folder, 'embedded_articles')).toBe(1);
        const { embedded } = await features.counts();
        expect(embedded.articles).toBe(summary.categories.articles.chunks);
        const [vector] = await embedder.embed(['feature pipeline']);
        const found = await features.searchChunks(
          'articles',
          {
            mode: 'hybrid',
            vector: vector ?? [],
            terms: ['feature', 'pipeline'],
            fusion: { kind: 'rrf', k: 60 },
            depth: 50,
          },
          { limit: 50 },
        );
        expect(found).toHaveLength(Math.min(50, embedded.articles));
      } finally {
        await store.close();
      }
    });
  },
);
