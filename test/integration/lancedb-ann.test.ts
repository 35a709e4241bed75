import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LanceVectorStore } from '../../lambdas/adapters/vector-store/index.js';
import type { Point } from '../../lambdas/ports/vector-store.js';

const DIMENSION = 16;

/** Points on a spiral of the sphere: deterministic, distinct, and each with clear nearest neighbours. */
function points(count: number): Point[] {
  return Array.from({ length: count }, (_, index) => {
    const vector = Array.from({ length: DIMENSION }, (_, axis) => Math.sin(index * 0.37 + axis * 1.3));
    const norm = Math.hypot(...vector);
    return {
      id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      vector: vector.map((value) => value / norm),
      terms: [`topic${String(index % 7)}`, 'chunk'],
      payload: { author_id: `author-${String(index % 4)}`, document_id: `doc-${String(index)}` },
    };
  });
}

describe('the embedded store switches to an ANN index past its threshold', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-ann-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('searches exactly below the threshold, through HNSW from it, with the same answers', async () => {
    const data = points(600);
    const exact = await LanceVectorStore.open(join(dir, 'exact'), { annMinRows: Number.POSITIVE_INFINITY });
    const indexed = await LanceVectorStore.open(join(dir, 'indexed'), { annMinRows: 500 });
    // A second connection to the same folder, as `twin serve` has while `twin features` writes.
    const reader = await LanceVectorStore.open(join(dir, 'indexed'), { annMinRows: 500 });
    try {
      for (const store of [exact, indexed]) {
        await store.ensureCollection({ name: 'chunks', vectorSize: DIMENSION, lexical: true });
        await store.upsert('chunks', data.slice(0, 400));
        await store.refreshIndexes('chunks');
      }
      // 400 rows: under the threshold, no vector index yet.
      expect(await reader.hasVectorIndex('chunks')).toBe(false);
      await indexed.upsert('chunks', data.slice(400));
      await exact.upsert('chunks', data.slice(400));
      await Promise.all([indexed.refreshIndexes('chunks'), exact.refreshIndexes('chunks')]);
      expect(await indexed.hasVectorIndex('chunks')).toBe(true);
      expect(await reader.hasVectorIndex('chunks')).toBe(true);
      expect(await exact.hasVectorIndex('chunks')).toBe(false);

      let found = 0;
      let expected = 0;
      let largestScoreGap = 0;
      for (const probe of data.filter((_, index) => index % 37 === 0)) {
        const query = probe.vector ?? [];
        for (const filter of [undefined, { authorIds: ['author-1'] }]) {
          const options = { limit: 10, ...(filter ? { filter } : {}) };
          const [truth, approximate] = await Promise.all([
            exact.search('chunks', query, options),
            indexed.search('chunks', query, options),
          ]);
          const wanted = new Set(truth.map((point) => point.id));
          expected += wanted.size;
          found += approximate.filter((point) => wanted.has(point.id)).length;
          for (const point of approximate) {
            const twin = truth.find((other) => other.id === point.id);
            if (twin) largestScoreGap = Math.max(largestScoreGap, Math.abs(twin.score - point.score));
          }
          if (filter) expect(approximate.every((point) => point.payload.author_id === 'author-1')).toBe(true);
        }
      }
      expect(found / expected).toBeGreaterThanOrEqual(0.95);
      // Scores through the index come from its 8-bit codes: close to exact ones, never all equal.
      expect(largestScoreGap).toBeGreaterThan(0);
      expect(largestScoreGap).toBeLessThan(0.1);
      // Keyword search is unaffected by the vector index.
      expect(await indexed.searchText('chunks', ['topic3'], { limit: 5 })).toHaveLength(5);
    } finally {
      await Promise.all([exact.close(), indexed.close(), reader.close()]);
    }
  });
});
