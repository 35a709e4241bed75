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
  return fuseLists(lists, key, (_list, index) => rankShare(k, index + 1));
}

/**
 * Sums what each list gives each item (`share` of the list and the item's 0-based position there).
 * An item listed twice in one list counts once, at its best rank; the first list that holds an item
 * supplies it. Best first; ties keep the order in which items were first seen.
 */
function fuseLists<T>(
  lists: readonly (readonly T[])[],
  key: (item: T) => string,
  share: (list: number, index: number) => number,
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
      if (entry.ranks[listIndex] !== undefined) return;
      entry.ranks[listIndex] = index + 1;
      entry.score += share(listIndex, index);
    });
  });
  return [...fused.values()].sort((a, b) => b.score - a.score);
}

/** A list to fuse by score: its items with the score the list gave each (any scale, higher better). */
export interface ScoredList<T> {
  items: readonly T[];
  score: (item: T) => number;
}

/**
 * A list's scores mapped onto [0, 1] by the query's own range (min-max over the list as returned):
 * its best item 1, its last 0; a list of one item, or of equal scores, gives them all 1.
 */
function normalisedScores<T>(list: ScoredList<T>): number[] {
  const raw = list.items.map(list.score);
  const high = Math.max(...raw);
  const low = Math.min(...raw);
  return raw.map((value) => (high > low ? (value - low) / (high - low) : 1));
}

/**
 * Convex combination fusion (Bruch, Gai and Ingber, "An Analysis of Fusion Functions for Hybrid
 * Retrieval", ACM TOIS 2023): each list's scores normalised per query, then an item scores
 * sum(weight_i * normalised_i), an item absent from a list taking 0 there (it ranked below that list's
 * cut, where min-max puts 0). Unlike rank fusion it keeps how far apart the scores are within a list:
 * a keyword hit far ahead of the rest keeps that lead, where ranks count it one place ahead of the
 * runner-up. Weights should sum to 1.
 */
export function convexFusion<T>(
  lists: readonly ScoredList<T>[],
  weights: readonly number[],
  key: (item: T) => string,
): Fused<T>[] {
  const normalised = lists.map(normalisedScores);
  return fuseLists(
    lists.map((list) => list.items),
    key,
    (list, index) => (weights[list] ?? 0) * (normalised[list]?.[index] ?? 0),
  );
}
