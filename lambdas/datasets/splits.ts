import { createHash } from 'node:crypto';
import { NearDuplicateIndex, minhash, normalize } from './curation.js';

export const TEST_FRACTION = { instruct: 0.1, preference: 0.05 } as const;
export const SPLIT_SEED = 'llm-twin-split-v1';

/**
 * A seeded train/test split: rows are ranked by a hash of the seed and their own key, and the lowest
 * ranked fraction is the test split. The same rows always split the same way, whatever their order.
 */
export function splitRows<T>(
  rows: readonly T[],
  testFraction: number,
  keyOf: (row: T) => string,
  seed = SPLIT_SEED,
): { train: T[]; test: T[] } {
  const rank = (row: T) => createHash('sha256').update(seed).update('\n').update(keyOf(row)).digest('hex');
  const ranked = rows.map((row) => ({ row, rank: rank(row) })).sort((a, b) => a.rank.localeCompare(b.rank));
  const testSize = Math.round(rows.length * testFraction);
  const testRows = new Set(ranked.slice(0, testSize).map(({ row }) => row));
  return { train: rows.filter((row) => !testRows.has(row)), test: rows.filter((row) => testRows.has(row)) };
}

/**
 * Drops every test row whose instruction is an exact or near duplicate of a train instruction, so the
 * test split measures what the model learnt rather than what it memorised.
 */
export function decontaminate<T>(
  train: readonly T[],
  test: readonly T[],
  instructionOf: (row: T) => string,
  threshold: number,
): { test: T[]; removed: number } {
  const exact = new Set(train.map((row) => normalize(instructionOf(row))));
  const index = new NearDuplicateIndex(threshold);
  for (const row of train) index.add(instructionOf(row));
  const clean = test.filter((row) => {
    const instruction = instructionOf(row);
    return (
      !exact.has(normalize(instruction)) && index.findSimilar(instruction, minhash(instruction)) === undefined
    );
  });
  return { test: clean, removed: test.length - clean.length };
}
