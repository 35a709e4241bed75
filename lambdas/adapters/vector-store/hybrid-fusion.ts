import type { Fusion } from '../../domain/index.js';
import type { FusedPoint, ScoredPoint } from '../../ports/vector-store.js';
import { convexFusion, reciprocalRankFusion, type Fused } from '../../shared/rank-fusion.js';

/**
 * A dense and a keyword list of one query fused in this process, as the fusion asks: what a store
 * does when it has no server-side fusion of that kind. Each point keeps its rank in both lists.
 */
export function fuseHybridLists(
  dense: readonly ScoredPoint[],
  lexical: readonly ScoredPoint[],
  fusion: Fusion,
  limit: number,
): FusedPoint[] {
  const key = (point: ScoredPoint) => point.id;
  const fused: Fused<ScoredPoint>[] =
    fusion.kind === 'rrf'
      ? reciprocalRankFusion([dense, lexical], key, fusion.k)
      : convexFusion(
          [dense, lexical].map((items) => ({ items, score: (point: ScoredPoint) => point.score })),
          [fusion.alpha, 1 - fusion.alpha],
          key,
        );
  return fused.slice(0, limit).map(({ item, score, ranks: [denseRank, lexicalRank] }) => ({
    id: item.id,
    payload: item.payload,
    score,
    ranks: {
      ...(denseRank === undefined ? {} : { dense: denseRank }),
      ...(lexicalRank === undefined ? {} : { lexical: lexicalRank }),
    },
  }));
}
