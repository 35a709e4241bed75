import { describe, expect, it } from 'vitest';
import { fuseHybridLists } from '../../lambdas/adapters/vector-store/hybrid-fusion.js';
import type { ScoredPoint } from '../../lambdas/ports/vector-store.js';
import { convexFusion, reciprocalRankFusion } from '../../lambdas/shared/rank-fusion.js';

interface Hit {
  id: string;
  score: number;
}
const hits = (...entries: [string, number][]): Hit[] => entries.map(([id, score]) => ({ id, score }));
const byId = (hit: Hit) => hit.id;
const scored = (items: Hit[]) => ({ items, score: (hit: Hit) => hit.score });

// A keyword list that singles out one document (a), which the dense list ranks third: the case where
// rank fusion counts the clear keyword hit as barely ahead of the keyword list's runner-up.
const dense = hits(['b', 0.52], ['c', 0.51], ['a', 0.5], ['d', 0.49]);
const keyword = hits(['a', 14.0], ['b', 3.1], ['c', 3.0], ['e', 2.9]);

describe('convex fusion of normalised scores', () => {
  it('keeps how far ahead an item is within its list, so the clear keyword hit stays first where rank fusion demotes it', () => {
    const convex = convexFusion([scored(dense), scored(keyword)], [0.5, 0.5], byId);
    expect(convex[0]?.item.id).toBe('a');
    // a: a third of the way up the dense range, the top of the keyword one, weighted equally.
    expect(convex[0]?.score).toBeCloseTo(0.5 * (1 / 3) + 0.5);

    const rrf = reciprocalRankFusion([dense, keyword], byId, 60);
    expect(rrf[0]?.item.id).toBe('b');
  });

  it('weighs the lists by their weights: all on dense gives the dense order', () => {
    const denseOnly = convexFusion([scored(dense), scored(keyword)], [1, 0], byId);
    expect(denseOnly.slice(0, 4).map((entry) => entry.item.id)).toEqual(['b', 'c', 'a', 'd']);
  });

  it('gives an item absent from a list nothing from that list, and keeps its rank in each list it is in', () => {
    const fused = convexFusion([scored(dense), scored(keyword)], [0.5, 0.5], byId);
    const e = fused.find((entry) => entry.item.id === 'e');
    expect(e?.ranks).toEqual([undefined, 4]);
    expect(e?.score).toBe(0); // last of the keyword list, absent from the dense one
    const b = fused.find((entry) => entry.item.id === 'b');
    expect(b?.ranks).toEqual([1, 2]);
  });

  it('scores every item of a list of equal scores as that list’s best', () => {
    const fused = convexFusion([scored(hits(['x', 0.3], ['y', 0.3]))], [1], byId);
    expect(fused.map((entry) => entry.score)).toEqual([1, 1]);
  });
});

describe('hybrid lists fused in the adapter', () => {
  const point = (id: string, score: number): ScoredPoint => ({
    id,
    score,
    payload: {} as ScoredPoint['payload'],
  });

  it('fuses by the fusion asked for and reports each point’s dense and keyword ranks', () => {
    const denseList = dense.map((hit) => point(hit.id, hit.score));
    const keywordList = keyword.map((hit) => point(hit.id, hit.score));
    const convex = fuseHybridLists(denseList, keywordList, { kind: 'convex', alpha: 0.2 }, 3);
    expect(convex.map((entry) => entry.id)).toEqual(['a', 'b', 'c']);
    expect(convex[0]?.ranks).toEqual({ dense: 3, lexical: 1 });
    const rrf = fuseHybridLists(denseList, keywordList, { kind: 'rrf', k: 60 }, 2);
    expect(rrf.map((entry) => entry.id)).toEqual(['b', 'a']);
    expect(rrf[0]?.score).toBeCloseTo(1 / 61 + 1 / 62);
  });
});
