import { describe, expect, it } from 'vitest';
import { belowFloors, fusionLosses } from '../../lambdas/cli/eval-command.js';
import { crossValidate, foldsWhereBeaten } from '../../lambdas/evaluation/cross-validation.js';
import type { FusionSelection } from '../../lambdas/evaluation/fusion-selection.js';

// Two folds of two questions: lexical wins fold 1, the served fusion wins fold 2.
const assignment = [0, 0, 1, 1];
const validation = crossValidate(
  [{ name: 'convex alpha=0.5', reciprocalRanks: [0.5, 1, 1, 1] }],
  [
    { name: 'dense', reciprocalRanks: [0.5, 0.5, 0.5, 0.5] },
    { name: 'lexical', reciprocalRanks: [1, 1, 0.5, 0.5] },
  ],
  assignment,
);
const selection: FusionSelection = {
  served: 'convex alpha=0.5',
  evaluations: {},
  validation,
  servedBeatenOn: foldsWhereBeaten(validation, 'convex alpha=0.5', ['dense', 'lexical']),
};

describe('the retrieval evaluation’s gates', () => {
  it('fails each fold on which the served hybrid ranks below the better single mode', () => {
    expect(fusionLosses(selection)).toEqual([
      'fold 1: the served hybrid (convex alpha=0.5) MRR 0.750 is below the better single mode’s 1.000',
    ]);
  });

  it('holds the cross-validated MRR to its floor, with the same tolerance as the modes', () => {
    // Held out, each fold is scored by the only candidate: (0.75 + 1) / 2.
    expect(belowFloors({ byMode: {}, fusion: selection }, { cross_validated: { mrr: 0.9 } })).toEqual([
      'cross-validated MRR 0.875 is below its floor 0.900 (by more than 0.01)',
    ]);
    expect(belowFloors({ byMode: {}, fusion: selection }, { cross_validated: { mrr: 0.88 } })).toEqual([]);
  });
});
