import { describe, expect, it } from 'vitest';
import { runsWithinBudget } from '../../lambdas/adapters/reranker/cross-encoder.js';

const pairs = (...tokens: number[]) => tokens.map((count, id) => ({ id, tokens: count }));
const ids = (runs: { id: number }[][]) => runs.map((run) => run.map(({ id }) => id));

describe('reranker runs within a token budget', () => {
  it('runs chunk-sized pairs one by one and short ones together', () => {
    expect(ids(runsWithinBudget(pairs(40, 50, 60, 300, 310), 512))).toEqual([[0, 1, 2], [3], [4]]);
  });

  it('counts the padding: a run is as wide as its longest pair', () => {
    // Five of 100 tokens pad to 500 and fit; a sixth would make 600.
    expect(ids(runsWithinBudget(pairs(100, 100, 100, 100, 100, 100), 512))).toEqual([[0, 1, 2, 3, 4], [5]]);
    // 3 x 170 = 510 fits, but the fourth pair widens the run to 4 x 200.
    expect(ids(runsWithinBudget(pairs(160, 170, 170, 200), 512))).toEqual([[0, 1, 2], [3]]);
  });

  it('runs a pair longer than the budget on its own, and nothing when there is nothing', () => {
    expect(ids(runsWithinBudget(pairs(30, 600), 512))).toEqual([[0], [1]]);
    expect(runsWithinBudget([], 512)).toEqual([]);
  });
});
