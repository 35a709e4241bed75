import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import type { RawDocument, User } from '../../lambdas/domain/index.js';
import { FeatureStore } from '../../lambdas/features/feature-store.js';
import { featurizeDocuments, runFeaturePipeline } from '../../lambdas/features/pipeline.js';
import type { Embedder } from '../../lambdas/ports/embedder.js';
import { vectorSearch } from '../../lambdas/rag/vector-search.js';
import type { VectorStore } from '../../lambdas/ports/vector-store.js';
import { post, repository } from '../support/documents.js';
import { referenceCorpusAvailable } from '../support/environment.js';
import { embeddingModelAvailable, realEmbedder } from '../support/models.js';
import { referenceArticles } from '../support/reference-corpus.js';
import { allVectorStoreKinds, type VectorStoreFixture } from '../support/vector-stores.js';

/** Counts every write that reaches the vector store, to prove that a re-run writes nothing. */
function countingWrites(store: VectorStore): { store: VectorStore; writes: () => number } {
  let writes = 0;
  const counted: VectorStore = Object.create(store) as VectorStore;
  counted.upsert = (collection, points) => {
    writes += points.length;
    return store.upsert(collection, points);
  };
  counted.deletePoints = (collection, ids) => {
    writes += ids.length;
    return store.deletePoints(collection, ids);
  };
  return { store: counted, writes: () => writes };
}

const runnable = embeddingModelAvailable() && referenceCorpusAvailable();

describe.runIf(runnable).each(allVectorStoreKinds())(
  'the feature pipeline on real articles with the real model, into $name',
  (kind) => {
    let embedder: Embedder;
    let dir: string;
    let warehouse: EmbeddedWarehouse;
    let fixture: VectorStoreFixture;
    let counted: ReturnType<typeof countingWrites>;
    let features: FeatureStore;
    let paul: User;
    let maxime: User;

    beforeAll(async () => {
      embedder = await realEmbedder();
    });

    beforeEach(async (context) => {
      if (!kind.available) context.skip(kind.skipReason);
      dir = await mkdtemp(join(tmpdir(), 'twin-features-'));
      warehouse = new EmbeddedWarehouse(join(dir, 'warehouse.sqlite'));
      fixture = await kind.create();
      counted = countingWrites(fixture.isolated());
      features = new FeatureStore(counted.store, embedder.model);
      // The three shortest articles of each author keep the test quick; the benchmark runs all 76.
      const articles = referenceArticles().sort(
        (a, b) => (a.content.Content?.length ?? 0) - (b.content.Content?.length ?? 0),
      );
      const pick = (author: string) =>
        articles.filter((article) => article.authorFullName === author).slice(0, 3);
      const idOf = (author: string) => pick(author)[0]?.authorId;
      paul = await warehouse.getOrCreateUser(
        { firstName: 'Paul', lastName: 'Iusztin' },
        idOf('Paul Iusztin'),
      );
      maxime = await warehouse.getOrCreateUser(
        { firstName: 'Maxime', lastName: 'Labonne' },
        idOf('Maxime Labonne'),
      );
      const documents: RawDocument[] = [
        ...pick('Paul Iusztin'),
        ...pick('Maxime Labonne'),
        post(paul, 'https://www.linkedin.com/posts/paul-1'),
        repository(maxime, 'https://github.com/mlabonne/demo'),
      ];
      await warehouse.insertDocuments(documents);
    });

    afterEach(async () => {
      if (!kind.available) return;
      await fixture.dispose();
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('cleans, chunks and embeds every document into both snapshots, with a per-author summary', async () => {
      const progress: number[] = [];
      const summary = await runFeaturePipeline({ warehouse, features, embedder }, {}, (event) =>
        progress.push(event.done),
      );

      expect(summary.categories.articles).toMatchObject({ documents: 6, processed: 6, unchanged: 0 });
      expect(summary.categories.articles.byAuthor).toEqual({ 'Paul Iusztin': 3, 'Maxime Labonne': 3 });
      expect(summary.categories.posts).toMatchObject({ documents: 1, processed: 1, chunks: 1 });
      expect(summary.categories.repositories).toMatchObject({ documents: 1, processed: 1 });
      expect(progress.at(-1)).toBe(8);

      const counts = await features.counts();
      expect(counts.cleaned).toEqual({ articles: 6, posts: 1, repositories: 1 });
      expect(counts.embedded.articles).toBe(summary.categories.articles.chunks);
      expect(await features.counts({ authorIds: [maxime.id] })).toMatchObject({
        cleaned: { articles: 3, repositories: 1 },
      });
    });

    it('finds an article from a sentence of it, with the chunk metadata the RAG step needs', async () => {
      await runFeaturePipeline({ warehouse, features, embedder });
      const [target] = await warehouse.findDocumentsByAuthor('articles', maxime.id);
      if (!target) throw new Error('no article');
      const sentence =
        (target.content.Content ?? '').split(/(?<=[.!?])\s+/u).find((text) => text.length > 80) ?? '';
      const [query] = await embedder.embed([sentence]);

      const hits = await features.searchChunks('articles', query ?? [], { limit: 3, authorId: maxime.id });

      expect(hits[0]).toMatchObject({
        documentId: target.id,
        link: target.link,
        authorFullName: 'Maxime Labonne',
        platform: target.platform,
        embeddingModel: embedder.model,
      });
      expect(hits[0]?.score).toBeGreaterThan(0.6);
      expect(hits.every((hit) => hit.authorId === maxime.id)).toBe(true);
    });

    it('searches all three collections for k chunks, best first, each once, filtered by author when asked', async () => {
      await runFeaturePipeline({ warehouse, features, embedder });

      const everyone = await vectorSearch(
        { features, embedder },
        { query: 'A short post on LinkedIn', k: 5 },
      );
      expect(everyone).toHaveLength(5);
      expect(everyone.map((chunk) => chunk.score)).toEqual(
        [...everyone.map((chunk) => chunk.score)].sort((a, b) => b - a),
      );
      expect(new Set(everyone.map((chunk) => chunk.id)).size).toBe(5);
      expect(everyone[0]?.category).toBe('posts');

      const maximeOnly = await vectorSearch(
        { features, embedder },
        { query: 'code in a repository', k: 4, authorId: maxime.id },
      );
      expect(maximeOnly).toHaveLength(4);
      expect(maximeOnly.every((chunk) => chunk.authorId === maxime.id)).toBe(true);
      expect(maximeOnly.some((chunk) => chunk.category === 'repositories')).toBe(true);
    });

    it('writes nothing when run again over an unchanged warehouse', async () => {
      await runFeaturePipeline({ warehouse, features, embedder });
      const before = await features.counts();
      const writesBefore = counted.writes();

      const again = await runFeaturePipeline({ warehouse, features, embedder });

      expect(again.categories.articles).toMatchObject({
        documents: 6,
        processed: 0,
        unchanged: 6,
        chunks: 0,
      });
      expect(counted.writes()).toBe(writesBefore);
      expect(await features.counts()).toEqual(before);
    });

    it('re-embeds a changed document and removes the chunks its old text had', async () => {
      await runFeaturePipeline({ warehouse, features, embedder });
      const [original] = await warehouse.findDocumentsByAuthor('articles', paul.id);
      if (!original) throw new Error('no article');
      const oldChunks = await features.counts({ documentIds: [original.id] });
      const edited = {
        ...original,
        content: {
          ...original.content,
          Content: 'A completely rewritten short article about vector search.',
        },
      };

      const report = await featurizeDocuments({ features, embedder }, 'articles', [edited]);

      expect(report).toMatchObject({ documents: 1, processed: 1, chunks: 1 });
      expect(oldChunks.embedded.articles).toBeGreaterThan(1);
      expect(await features.counts({ documentIds: [original.id] })).toMatchObject({
        cleaned: { articles: 1 },
        embedded: { articles: 1 },
      });
      const [query] = await embedder.embed(['rewritten article about vector search']);
      const [hit] = await features.searchChunks('articles', query ?? [], { limit: 1 });
      expect(hit?.content).toContain('completely rewritten');
    });

    it('processes only the requested authors', async () => {
      const summary = await runFeaturePipeline({ warehouse, features, embedder }, { authorIds: [paul.id] });

      expect(summary.categories.articles.byAuthor).toEqual({ 'Paul Iusztin': 3 });
      expect((await features.counts({ authorIds: [maxime.id] })).cleaned).toEqual({
        articles: 0,
        posts: 0,
        repositories: 0,
      });
    });
  },
);
