/**
 * Index terms as sparse vectors for Qdrant's BM25: the document side carries BM25's term-frequency
 * part, and the collection's `idf` modifier makes Qdrant multiply in each term's inverse document
 * frequency at query time, over the points it holds. So a query vector only names its terms.
 */

export interface SparseVector {
  indices: number[];
  values: number[];
}

/** BM25's usual constants: how fast repeats saturate, and how much a long passage is discounted. */
const K1 = 1.2;
const B = 0.75;
/**
 * BM25 discounts a passage by its length relative to the average one. A sparse vector is written once
 * and must not change as the collection grows, so the average is a fixed figure: the typical chunk of
 * the feature pipeline (1000 to 2000 characters of article, about 150 terms once stop words are out).
 */
export const TYPICAL_TERMS_PER_POINT = 150;

/** A term's dimension: FNV-1a over its UTF-8 bytes, a 32-bit unsigned number as Qdrant expects. */
export function termIndex(term: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(term, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function termCounts(terms: readonly string[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const term of terms) {
    const index = termIndex(term);
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  return counts;
}

/** A stored point's terms: each distinct term weighted by BM25's saturated, length-normalised frequency. */
export function documentSparseVector(terms: readonly string[]): SparseVector {
  const lengthNorm = 1 - B + (B * terms.length) / TYPICAL_TERMS_PER_POINT;
  const entries = [...termCounts(terms)].sort(([a], [b]) => a - b);
  return {
    indices: entries.map(([index]) => index),
    values: entries.map(([, tf]) => (tf * (K1 + 1)) / (tf + K1 * lengthNorm)),
  };
}

/** A query's terms: each distinct term once, weight 1 (Qdrant supplies the idf). */
export function querySparseVector(terms: readonly string[]): SparseVector {
  const indices = [...termCounts(terms).keys()].sort((a, b) => a - b);
  return { indices, values: indices.map(() => 1) };
}
