import { describe, expect, it } from 'vitest';
import {
  crossValidate,
  foldsByArticle,
  foldsWhereBeaten,
  type EvaluatedSetting,
} from '../../lambdas/evaluation/cross-validation.js';
import type { GoldenQuestion } from '../../lambdas/evaluation/retrieval.js';

const question = (id: string, ...links: string[]): GoldenQuestion => ({
  id,
  query: `question ${id}`,
  author_full_name: 'Paul Iusztin',
  mentions_author: false,
  relevant_links: links,
  evidence: 'evidence',
  kind: 'factual',
});

describe('folds by source article', () => {
  it('keeps every question about an article in one fold, also through a question citing two', () => {
    const questions = [
      question('q1', 'https://x/a'),
      question('q2', 'https://x/b'),
      question('q3', 'https://x/a', 'https://x/c'),
      question('q4', 'https://x/c'),
      question('q5', 'https://x/d'),
      question('q6', 'https://x/e'),
    ];
    const folds = foldsByArticle(questions, 3);
    // q1, q3 and q4 share articles a and c: one group.
    expect(new Set([folds[0], folds[2], folds[3]]).size).toBe(1);
    // The other three are dealt to the two emptier folds, balancing the sizes (3, 2, 1).
    const sizes = [0, 1, 2].map((fold) => folds.filter((value) => value === fold).length).sort();
    expect(sizes).toEqual([1, 2, 3]);
  });

  it('deals groups largest first to the smallest fold, so folds differ by at most a group', () => {
    const questions = Array.from({ length: 10 }, (_, index) =>
      question(`q${String(index)}`, `https://x/${String(index)}`),
    );
    const folds = foldsByArticle(questions, 5);
    expect([0, 1, 2, 3, 4].map((fold) => folds.filter((value) => value === fold).length)).toEqual([
      2, 2, 2, 2, 2,
    ]);
  });
});

// Four folds of two questions each: question i belongs to fold floor(i / 2).
const assignment = [0, 0, 1, 1, 2, 2, 3, 3];
const setting = (name: string, reciprocalRanks: number[]): EvaluatedSetting => ({ name, reciprocalRanks });

describe('cross-validated choice of a setting', () => {
  // Per fold (two questions each): lexical 1, 0.9, 0.9, 0.5; dense 0.5 throughout.
  const lexical = setting('lexical', [1, 1, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5]);
  const dense = setting('dense', [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  // The best mean MRR, but behind lexical on fold 1: 0.75, 1, 1, 1.
  const spiky = setting('spiky', [0.75, 0.75, 1, 1, 1, 1, 1, 1]);
  // Never behind the better baseline, a lower mean: 1, 0.9, 0.9, 0.75.
  const steady = setting('steady', [1, 1, 0.9, 0.9, 0.9, 0.9, 0.75, 0.75]);

  it('chooses, on the other folds, the best candidate that never falls below the best baseline there', () => {
    const validation = crossValidate([spiky, steady], [dense, lexical], assignment);
    // Holding out fold 1 (where spiky trails), spiky leads on the rest and qualifies everywhere it is judged.
    expect(validation.folds.map((fold) => fold.chosen)).toEqual(['spiky', 'steady', 'steady', 'steady']);
    expect(validation.folds.every((fold) => fold.qualified)).toBe(true);
    expect(validation.winner).toBe('steady');
    // Each fold scored by its own choice: spiky on fold 1 (0.75), steady elsewhere (0.9, 0.9, 0.75).
    expect(validation.crossValidatedMrr).toBeCloseTo((0.75 + 0.9 + 0.9 + 0.75) / 4);
    expect(validation.folds[3]?.mrrByName).toEqual({ spiky: 1, steady: 0.75, dense: 0.5, lexical: 0.5 });
  });

  it('chooses by MRR alone when no baseline is given', () => {
    const validation = crossValidate([steady, spiky], [], assignment);
    // Mean MRR alone keeps spiky wherever fold 1 does not drag it below steady.
    expect(validation.folds.map((fold) => fold.chosen)).toEqual(['spiky', 'spiky', 'spiky', 'steady']);
  });

  it('falls back to the candidate least behind when none qualifies, and says so', () => {
    const oracle = setting('oracle', [1, 1, 1, 1, 1, 1, 1, 1]);
    const uneven = setting('uneven', [0.5, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]);
    const even = setting('even', [0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]);
    const validation = crossValidate([uneven, even], [oracle], assignment);
    expect(validation.folds.every((fold) => !fold.qualified)).toBe(true);
    // Without fold 1, uneven trails the oracle by 0.1 at worst; with it, by 0.5 (even: 0.2 throughout).
    expect(validation.folds.map((fold) => fold.chosen)).toEqual(['uneven', 'even', 'even', 'even']);
  });

  it('names the folds on which a setting ranks below one of its rivals', () => {
    const validation = crossValidate([spiky, steady], [dense, lexical], assignment);
    expect(foldsWhereBeaten(validation, 'spiky', ['dense', 'lexical']).map((fold) => fold.fold)).toEqual([1]);
    expect(foldsWhereBeaten(validation, 'steady', ['dense', 'lexical'])).toEqual([]);
  });
});
