import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedWarehouse } from '../../lambdas/adapters/warehouse/index.js';
import {
  DEFAULT_FUSION,
  DEFAULT_FUSION_ALPHA,
  DEFAULT_FUSION_K,
  RETRIEVAL_MODES,
  type RawDocument,
  type RetrievalMode,
  type User,
} from '../../lambdas/domain/index.js';
import { FeatureStore } from '../../lambdas/features/feature-store.js';
import { featurizeDocuments, runFeaturePipeline } from '../../lambdas/features/pipeline.js';
import type { Embedder } from '../../lambdas/ports/embedder.js';
import { ContextRetriever } from '../../lambdas/rag/retriever.js';
import { TraceRecorder } from '../../lambdas/rag/trace.js';
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

/**
 * The store as the feature pipeline before keyword search wrote it: collections without a lexical
 * index, points without terms, chunks without their original text, cleaned records without a layout.
 */
function asPreviousVersion(store: VectorStore): VectorStore {
  const previous: VectorStore = Object.create(store) as VectorStore;
  previous.ensureCollection = ({ lexical: _lexical, ...spec }) => store.ensureCollection(spec);
  previous.upsert = (collection, points) =>
    store.upsert(
      collection,
      points.map(
        ({ terms: _terms, payload: { original: _original, layout: _layout, ...payload }, ...point }) => ({
          ...point,
          payload,
        }),
      ),
    );
  previous.refreshIndexes = () => Promise.resolve();
  return previous;
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

      const hits = await features.searchChunks(
        'articles',
        { mode: 'dense', vector: query ?? [] },
        { limit: 3, authorIds: [maxime.id] },
      );

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

    /** The retriever as the service runs it, without the model-backed steps. */
    const search = (query: string, k: number, mode: RetrievalMode, author?: string) =>
      new ContextRetriever({ features, embedder, authors: warehouse }).retrieve(
        query,
        {
          k,
          expand: false,
          queries: 1,
          rerank: false,
          mode,
          fusion: DEFAULT_FUSION,
          fusionK: DEFAULT_FUSION_K,
          fusionAlpha: DEFAULT_FUSION_ALPHA,
          ...(author ? { author } : {}),
        },
        new TraceRecorder(query),
      );

    it.each(RETRIEVAL_MODES)(
      '%s search covers all three collections for k chunks, best first, each once, filtered by author when asked',
      async (mode) => {
        await runFeaturePipeline({ warehouse, features, embedder });

        const everyone = (await search('A short post on LinkedIn', 5, mode)).chunks;
        expect(everyone).toHaveLength(5);
        expect(everyone.map((chunk) => chunk.score)).toEqual(
          [...everyone.map((chunk) => chunk.score)].sort((a, b) => b - a),
        );
        expect(new Set(everyone.map((chunk) => chunk.id)).size).toBe(5);
        // Keyword search merges collections by rank, so each collection's best match leads.
        if (mode === 'lexical')
          expect(everyone.slice(0, 3).some((chunk) => chunk.category === 'posts')).toBe(true);
        else expect(everyone[0]?.category).toBe('posts');

        const maximeOnly = (await search('code in a repository demo', 4, mode, maxime.id)).chunks;
        expect(maximeOnly.length).toBeGreaterThan(0);
        expect(maximeOnly.every((chunk) => chunk.authorId === maxime.id)).toBe(true);
        expect(maximeOnly.some((chunk) => chunk.category === 'repositories')).toBe(true);
      },
    );

    it('finds a passage by a rare word that only keyword matching sees, and fuses both rankings', async () => {
      await runFeaturePipeline({ warehouse, features, embedder });
      const [target] = await warehouse.findDocumentsByAuthor('articles', maxime.id);
      if (!target) throw new Error('no article');
      // The longest word of the article: rare, so its BM25 weight is high.
      const rare = [...new Set((target.content.Content ?? '').match(/\p{L}{9,}/gu) ?? [])].sort(
        (a, b) => b.length - a.length,
      )[0];
      if (!rare) throw new Error('no long word');

      const lexical = await search(rare, 3, 'lexical');
      expect(lexical.chunks[0]?.documentId).toBe(target.id);

      const hybrid = await search(rare, 3, 'hybrid');
      expect(hybrid.chunks.some((chunk) => chunk.documentId === target.id)).toBe(true);
      const ranks = hybrid.chunks[0]?.queryRanks[0];
      if (kind.name.startsWith('embedded')) expect(ranks?.lexical ?? ranks?.dense).toBeDefined();
    });

    it('shows the passage as the author wrote it: apostrophes and sentence capitals kept', async () => {
      await runFeaturePipeline({ warehouse, features, embedder });
      const articles = [
        ...(await warehouse.findDocumentsByAuthor('articles', paul.id)),
        ...(await warehouse.findDocumentsByAuthor('articles', maxime.id)),
      ];
      const sentences = articles.flatMap((article) =>
        (article.content.Content ?? '')
          .split(/(?<=[.!?])\s+|\n+/u)
          .map((sentence) => ({ sentence: sentence.trim(), author: article.authorId })),
      );
      const found = sentences.find(({ sentence }) =>
        /^[A-Z][^*_#[\]`|]{20,}\w['’]\w[^*_#[\]`|]*$/u.test(sentence),
      );
      if (!found) throw new Error('no sentence with an apostrophe');
      const withApostrophe = found.sentence;

      const hits = (await search(withApostrophe, 9, 'hybrid', found.author)).chunks;
      const hit = hits.find((chunk) => chunk.original.includes(withApostrophe));

      expect(hit?.original).toContain(withApostrophe);
      expect(hit?.content).not.toMatch(/['’]/u);
      expect(hit?.original).toMatch(/\w['’]\w/u);
    });

    it('migrates a store written before keyword search: in place on LanceDB, by --rebuild on Qdrant', async () => {
      const underlying = fixture.isolated();
      await runFeaturePipeline({
        warehouse,
        features: new FeatureStore(asPreviousVersion(underlying), embedder.model),
        embedder,
      });
      const probe = (await warehouse.findDocumentsByAuthor('articles', maxime.id))[0]?.content.Content ?? '';
      const word =
        [...new Set(probe.match(/\p{L}{9,}/gu) ?? [])].sort((a, b) => b.length - a.length)[0] ?? '';
      expect((await search(word, 3, 'lexical')).chunks).toEqual([]);

      const upgraded = await runFeaturePipeline({ warehouse, features, embedder });

      // Every document is processed again (the stored layout is older); the content hashes did not change.
      expect(upgraded.categories.articles).toMatchObject({ documents: 6, processed: 6 });
      const inPlace = kind.name.startsWith('embedded');
      expect(upgraded.missingLexicalIndex).toEqual(inPlace ? [] : ['articles', 'posts', 'repositories']);
      if (!inPlace) {
        // Dense search still serves while the collections wait for a rebuild.
        expect((await search(word, 3, 'hybrid')).chunks.length).toBeGreaterThan(0);
        await features.dropCollections();
        const rebuilt = await runFeaturePipeline({ warehouse, features, embedder });
        expect(rebuilt.missingLexicalIndex).toEqual([]);
      }
      const [hit] = (await search(word, 3, 'lexical')).chunks;
      expect(hit?.content).toContain(word);
      expect(hit?.original).toBeDefined();
      const again = await runFeaturePipeline({ warehouse, features, embedder });
      expect(again.categories.articles).toMatchObject({ processed: 0, unchanged: 6 });
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
      const [hit] = await features.searchChunks(
        'articles',
        { mode: 'dense', vector: query ?? [] },
        { limit: 1 },
      );
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
