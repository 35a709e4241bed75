import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collect } from '../support/async.js';
import { lexicalTerms } from '../../lambdas/features/lexical-terms.js';
import type { Point, VectorStore } from '../../lambdas/ports/vector-store.js';
import { allVectorStoreKinds, type VectorStoreFixture } from '../support/vector-stores.js';

const ALICE = randomUUID();
const BOB = randomUUID();

function unit(values: number[]): number[] {
  const norm = Math.hypot(...values);
  return values.map((value) => value / norm);
}

function point(vector: number[] | undefined, author: string, document: string, extra: object = {}): Point {
  return {
    id: randomUUID(),
    payload: { author_id: author, document_id: document, ...extra },
    ...(vector ? { vector: unit(vector) } : {}),
  };
}

describe.each(allVectorStoreKinds())('VectorStore contract: $name', (kind) => {
  let fixture: VectorStoreFixture;
  let store: VectorStore;
  let vectors: string;
  let payloads: string;

  beforeEach(async (context) => {
    if (!kind.available) context.skip(kind.skipReason);
    fixture = await kind.create();
    store = fixture.store;
    vectors = fixture.collection('embedded_things');
    payloads = fixture.collection('cleaned_things');
  });
  afterEach(async () => {
    if (kind.available) await fixture.dispose();
  });

  it('reads a collection that was never created as empty', async () => {
    expect(await store.search(vectors, unit([1, 0, 0]), { limit: 3 })).toEqual([]);
    expect(await collect(store.scroll(vectors))).toEqual([]);
    expect(await store.count(vectors)).toBe(0);
    await expect(store.deletePoints(vectors, [randomUUID()])).resolves.toBeUndefined();
  });

  it('creates a collection once, however often and concurrently it is ensured', async () => {
    await Promise.all([1, 2, 3].map(() => store.ensureCollection({ name: vectors, vectorSize: 3 })));
    await store.ensureCollection({ name: vectors, vectorSize: 3 });
    await store.upsert(vectors, [point([1, 0, 0], ALICE, 'd1')]);
    await store.ensureCollection({ name: vectors, vectorSize: 3 });
    expect(await store.count(vectors)).toBe(1);
  });

  it('ranks search results by cosine similarity, best first, with the payload', async () => {
    await store.ensureCollection({ name: vectors, vectorSize: 3 });
    const near = point([1, 0.1, 0], ALICE, 'd1', { content: 'near' });
    const middle = point([1, 1, 0], ALICE, 'd2', { content: 'middle' });
    const far = point([0, 0, 1], BOB, 'd3', { content: 'far' });
    await store.upsert(vectors, [far, near, middle]);

    const found = await store.search(vectors, unit([1, 0, 0]), { limit: 2 });

    expect(found.map((hit) => hit.payload.content)).toEqual(['near', 'middle']);
    expect(found[0]?.id).toBe(near.id);
    expect(found[0]?.score).toBeCloseTo(unit([1, 0.1, 0])[0] ?? 0, 4);
    expect(found[1]?.score).toBeCloseTo(Math.SQRT1_2, 4);
    expect(found[0]?.payload).toEqual(near.payload);
  });

  it('filters search by author and by document, combining conditions with AND', async () => {
    await store.ensureCollection({ name: vectors, vectorSize: 3 });
    const alice1 = point([1, 0, 0], ALICE, 'd1');
    const alice2 = point([0.9, 0.1, 0], ALICE, 'd2');
    const bob1 = point([1, 0, 0], BOB, 'd1');
    await store.upsert(vectors, [alice1, alice2, bob1]);
    const query = unit([1, 0, 0]);
    const ids = async (filter: Parameters<VectorStore['search']>[2]['filter']) =>
      (await store.search(vectors, query, { limit: 10, ...(filter ? { filter } : {}) }))
        .map((hit) => hit.id)
        .sort();

    expect(await ids({ authorIds: [BOB] })).toEqual([bob1.id]);
    expect(await ids({ authorIds: [ALICE, BOB] })).toHaveLength(3);
    expect(await ids({ documentIds: ['d1'] })).toEqual([alice1.id, bob1.id].sort());
    expect(await ids({ authorIds: [ALICE], documentIds: ['d1'] })).toEqual([alice1.id]);
    expect(await ids({ authorIds: [] })).toEqual([]);
    expect(await ids({ authorIds: [randomUUID()] })).toEqual([]);
  });

  it('replaces a point upserted again under the same id', async () => {
    await store.ensureCollection({ name: vectors, vectorSize: 3 });
    const original = point([1, 0, 0], ALICE, 'd1', { content: 'first' });
    await store.upsert(vectors, [original]);
    await store.upsert(vectors, [
      { ...original, vector: unit([0, 1, 0]), payload: { ...original.payload, content: 'second' } },
    ]);

    expect(await store.count(vectors)).toBe(1);
    const [hit] = await store.search(vectors, unit([0, 1, 0]), { limit: 1 });
    expect(hit?.payload.content).toBe('second');
    expect(hit?.score).toBeCloseTo(1, 4);
  });

  it('scrolls every matching point page by page, without vectors', async () => {
    await store.ensureCollection({ name: vectors, vectorSize: 3 });
    const alices = Array.from({ length: 5 }, (_, i) => point([1, i, 0], ALICE, `d${String(i)}`));
    await store.upsert(vectors, [...alices, point([0, 1, 0], BOB, 'dx')]);

    const scrolled = await collect(store.scroll(vectors, { filter: { authorIds: [ALICE] }, pageSize: 2 }));

    expect(scrolled.map((found) => found.id).sort()).toEqual(alices.map((found) => found.id).sort());
    expect(scrolled.every((found) => found.vector === undefined)).toBe(true);
    expect(await collect(store.scroll(vectors, { pageSize: 4 }))).toHaveLength(6);
  });

  it('counts with and without a filter, and deletes points by id', async () => {
    await store.ensureCollection({ name: vectors, vectorSize: 3 });
    const points = [
      point([1, 0, 0], ALICE, 'd1'),
      point([0, 1, 0], ALICE, 'd1'),
      point([0, 0, 1], BOB, 'd2'),
    ];
    await store.upsert(vectors, points);
    expect(await store.count(vectors, { authorIds: [ALICE] })).toBe(2);

    await store.deletePoints(vectors, [points[0]?.id ?? '', points[2]?.id ?? '']);

    expect(await store.count(vectors)).toBe(1);
    expect((await collect(store.scroll(vectors))).map((found) => found.id)).toEqual([points[1]?.id]);
  });

  it('keeps payload-only collections (the cleaned snapshot) without vectors', async () => {
    await store.ensureCollection({ name: payloads });
    const documents = [point(undefined, ALICE, 'd1', { content: 'hello' }), point(undefined, BOB, 'd2')];
    await store.upsert(payloads, documents);

    expect(await store.count(payloads, { authorIds: [ALICE] })).toBe(1);
    const [found] = await collect(store.scroll(payloads, { filter: { documentIds: ['d1'] } }));
    expect(found?.payload).toEqual({ author_id: ALICE, document_id: 'd1', content: 'hello' });
  });

  it("rejects a vector whose dimension is not the collection's, storing nothing", async () => {
    await store.ensureCollection({ name: vectors, vectorSize: 3 });
    await expect(store.upsert(vectors, [point([1, 0, 0, 0, 0], ALICE, 'd1')])).rejects.toThrow(/dimension/u);
    expect(await store.count(vectors)).toBe(0);
  });

  it('keeps the data for the next connection', async () => {
    await store.ensureCollection({ name: vectors, vectorSize: 3 });
    const stored = point([1, 0, 0], ALICE, 'd1', { content: 'kept' });
    await store.upsert(vectors, [stored]);
    await store.close();

    const reopened = await fixture.reopen();
    const [hit] = await reopened.search(vectors, unit([1, 0, 0]), { limit: 1 });
    expect(hit?.payload).toEqual(stored.payload);
  });

  describe('lexical and hybrid search', () => {
    let texts: string;
    const FUSION_K = 60;
    const passage = (vector: number[], author: string, text: string) => ({
      ...point(vector, author, `doc-${text.slice(0, 12)}`, { content: text }),
      terms: lexicalTerms(text),
    });
    const quantization = passage([1, 0, 0], ALICE, 'Quantization shrinks weights to four bits with GPTQ.');
    const lora = passage(
      [0.9, 0.3, 0],
      ALICE,
      'LoRA adapters fine-tune a model; LoRA keeps the base frozen.',
    );
    const gptq = passage([0.2, 1, 0], BOB, 'GPTQ quantization needs a calibration set of samples.');
    const unrelated = passage([0, 0, 1], BOB, 'Crawling pages with a headless browser.');

    beforeEach(async () => {
      texts = fixture.collection('embedded_texts');
      await store.ensureCollection({ name: texts, vectorSize: 3, lexical: true });
      await store.upsert(texts, [quantization, lora, gptq, unrelated]);
      await store.refreshIndexes(texts);
    });

    it('keeps a lexical index only where the collection asked for one', async () => {
      await store.ensureCollection({ name: vectors, vectorSize: 3 });
      expect(await store.hasLexicalIndex(texts)).toBe(true);
      expect(await store.hasLexicalIndex(vectors)).toBe(false);
      expect(await store.hasLexicalIndex(fixture.collection('never_created'))).toBe(false);
    });

    it('finds points by their terms, ranked by BM25, and never a point sharing no term', async () => {
      const found = await store.searchText(texts, lexicalTerms('GPTQ calibration samples'), { limit: 10 });

      expect(found.map((hit) => hit.id)).toEqual([gptq.id, quantization.id]);
      expect(found[0]?.payload).toEqual(gptq.payload);
      expect(found[0]?.score).toBeGreaterThan(found[1]?.score ?? Infinity);
      expect(await store.searchText(texts, lexicalTerms('the of and'), { limit: 10 })).toEqual([]);
    });

    it('weighs repeated and rare terms: the passage saying LoRA twice wins for "LoRA"', async () => {
      const [best] = await store.searchText(texts, lexicalTerms('LoRA model quantization'), { limit: 1 });
      expect(best?.id).toBe(lora.id);
    });

    it('filters keyword search by author', async () => {
      const found = await store.searchText(texts, lexicalTerms('GPTQ quantization'), {
        limit: 10,
        filter: { authorIds: [ALICE] },
      });
      expect(found.map((hit) => hit.id)).toEqual([quantization.id]);
      expect(
        await store.searchText(texts, lexicalTerms('GPTQ'), { limit: 10, filter: { authorIds: [] } }),
      ).toEqual([]);
    });

    it('fuses the dense and the keyword ranking by reciprocal rank, 1 / (k + rank) from each list', async () => {
      // Dense order for [1, 0, 0]: quantization, lora, gptq, unrelated (no ties). Keyword order for "GPTQ
      // calibration": gptq, quantization. Fused: quantization 1/61 + 1/62, gptq 1/63 + 1/61, lora 1/62.
      const fused = await store.searchHybrid(
        texts,
        { vector: unit([1, 0, 0]), terms: lexicalTerms('GPTQ calibration') },
        { limit: 3, depth: 10, fusion: { kind: 'rrf', k: FUSION_K } },
      );

      expect(fused.map((hit) => hit.id)).toEqual([quantization.id, gptq.id, lora.id]);
      expect(fused[0]?.score).toBeCloseTo(1 / 61 + 1 / 62, 6);
      expect(fused[1]?.score).toBeCloseTo(1 / 63 + 1 / 61, 6);
      expect(fused[2]?.score).toBeCloseTo(1 / 62, 6);
      expect(fused[0]?.payload).toEqual(quantization.payload);
      for (const hit of fused) {
        if (hit.ranks) expect(Object.keys(hit.ranks).length).toBeGreaterThan(0);
      }
    });

    it('fuses by normalised score too: alpha weighs the dense list, 1 - alpha the keyword one', async () => {
      const query = { vector: unit([1, 0, 0]), terms: lexicalTerms('GPTQ calibration') };
      const convex = (alpha: number) =>
        store.searchHybrid(texts, query, { limit: 3, depth: 10, fusion: { kind: 'convex', alpha } });

      const denseOnly = await convex(1);
      expect(denseOnly.map((hit) => hit.id)).toEqual([quantization.id, lora.id, gptq.id]);
      expect(denseOnly[0]?.score).toBeCloseTo(1, 6);
      const keywordOnly = await convex(0);
      expect(keywordOnly[0]?.id).toBe(gptq.id);
      expect(keywordOnly[0]?.score).toBeCloseTo(1, 6);
      for (const hit of await convex(0.5)) {
        expect(hit.score).toBeGreaterThanOrEqual(0);
        expect(hit.score).toBeLessThanOrEqual(1);
      }
    });

    it('applies the author filter to both lists of a hybrid search', async () => {
      const fused = await store.searchHybrid(
        texts,
        { vector: unit([1, 0, 0]), terms: lexicalTerms('GPTQ calibration') },
        { limit: 10, depth: 10, fusion: { kind: 'rrf', k: FUSION_K }, filter: { authorIds: [BOB] } },
      );
      expect(fused.map((hit) => hit.id)).toEqual([gptq.id, unrelated.id]);
    });

    it('finds a replaced point by its new terms only, once the index is refreshed', async () => {
      await store.upsert(texts, [{ ...unrelated, terms: lexicalTerms('Tokenizers split words.') }]);
      await store.refreshIndexes(texts);

      expect(
        (await store.searchText(texts, lexicalTerms('tokenizers'), { limit: 5 })).map((hit) => hit.id),
      ).toEqual([unrelated.id]);
      expect(await store.searchText(texts, lexicalTerms('headless browser'), { limit: 5 })).toEqual([]);
      expect(await store.count(texts)).toBe(4);
    });

    /** Ids of the keyword search for `text` through one connection. */
    const textHits = async (on: VectorStore, text: string) =>
      (await on.searchText(texts, lexicalTerms(text), { limit: 5 })).map((hit) => hit.id);

    it("shows a reader that stays open (twin serve) another connection's writes (twin features)", async () => {
      const reader = await fixture.reopen();
      expect(await reader.count(texts)).toBe(4);

      const tokenizers = passage([0, 1, 0.2], BOB, 'Tokenizers split words into subword pieces.');
      await store.upsert(texts, [tokenizers]);
      await store.refreshIndexes(texts);

      expect(await reader.count(texts)).toBe(5);
      expect(await textHits(reader, 'tokenizers')).toEqual([tokenizers.id]);
      const query = { vector: unit([0, 1, 0.2]), terms: lexicalTerms('subword tokenizers') };
      expect(
        (
          await reader.searchHybrid(texts, query, {
            limit: 1,
            depth: 10,
            fusion: { kind: 'rrf', k: FUSION_K },
          })
        )[0]?.id,
      ).toBe(tokenizers.id);
    });

    it('shows a reader that stays open a collection another connection dropped and rebuilt', async () => {
      const reader = await fixture.reopen();
      expect(await reader.count(texts)).toBe(4);

      await store.deleteCollection(texts);
      await store.ensureCollection({ name: texts, vectorSize: 3, lexical: true });
      await store.upsert(texts, [gptq]);
      await store.refreshIndexes(texts);

      expect(await reader.count(texts)).toBe(1);
      expect(await textHits(reader, 'quantization')).toEqual([gptq.id]);
    });

    it('deletes a whole collection, which then reads as empty', async () => {
      await store.deleteCollection(texts);
      await store.deleteCollection(texts);

      expect(await store.count(texts)).toBe(0);
      expect(await store.searchText(texts, lexicalTerms('GPTQ'), { limit: 5 })).toEqual([]);
      expect(await store.hasLexicalIndex(texts)).toBe(false);
    });
  });
});
