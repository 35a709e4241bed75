/** One item of a fused ranking: its fused score and its 1-based rank in each input list (if there). */
export interface Fused<T> {
  item: T;
  score: number;
  ranks: (number | undefined)[];
}

/** What one list gives an item at a 1-based rank under reciprocal rank fusion: 1 / (k + rank). */
export function rankShare(k: number, rank: number): number {
  return 1 / (k + rank);
}

/**
 * Reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009): an item scores the sum, over the lists
 * that hold it, of 1 / (k + its 1-based rank there). Only ranks count, so lists whose scores are on
 * different scales (cosine similarity, BM25) combine without calibration; a larger k flattens the
 * advantage of the very top ranks. Items are identified by `key`; the first list that holds an item
 * supplies it. Best first; ties keep the order in which items were first seen.
 */
export function reciprocalRankFusion<T>(
  lists: readonly (readonly T[])[],
  key: (item: T) => string,
  k: number,
): Fused<T>[] {
  const fused = new Map<string, Fused<T>>();
  lists.forEach((list, listIndex) => {
    list.forEach((item, index) => {
      const id = key(item);
      let entry = fused.get(id);
      if (!entry) {
        entry = { item, score: 0, ranks: lists.map(() => undefined) };
        fused.set(id, entry);
      }
      // An item listed twice in one list counts once, at its best rank.
      if (entry.ranks[listIndex] !== undefined) return;
      entry.ranks[listIndex] = index + 1;
      entry.score += rankShare(k, index + 1);
    });
  });
  return [...fused.values()].sort((a, b) => b.score - a.score);
}
