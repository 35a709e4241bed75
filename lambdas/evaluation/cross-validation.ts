import type { GoldenQuestion } from './retrieval.js';

/**
 * K-fold cross-validation of retrieval settings over a labelled question set: folds are drawn by
 * source article (questions sharing a relevant article always fall in the same fold, so a setting is
 * never judged on an article it was chosen on); each fold's setting is chosen on the other folds
 * alone, and that setting's MRR on the fold itself is what the fold reports.
 *
 * The choice is constrained before it is optimised: a candidate qualifies when, on every one of the
 * other folds, it ranks at least as well as the best baseline (for fusion: the better of dense and
 * lexical search alone), and the qualifying candidate with the best MRR over those folds is chosen.
 * Mean MRR alone prefers a setting that wins big on a few questions and loses to plain keyword search
 * elsewhere, which is what does not carry over to new questions. When no candidate qualifies, the one
 * whose worst fold is least below the best baseline is chosen.
 */

/** One evaluated setting: its name and each question's reciprocal rank (0 when nothing relevant). */
export interface EvaluatedSetting {
  name: string;
  reciprocalRanks: readonly number[];
}

export interface FoldResult {
  fold: number;
  questions: number;
  /** The candidate chosen on the other folds. */
  chosen: string;
  /** Whether it met the constraint there (never below the best baseline on any of them). */
  qualified: boolean;
  /** The chosen candidate's MRR on the other folds, and on this fold. */
  trainingMrr: number;
  heldOutMrr: number;
  /** MRR on this fold of every setting given, by name (candidates and baselines alike). */
  mrrByName: Record<string, number>;
}

export interface CrossValidation {
  folds: FoldResult[];
  /** Mean held-out reciprocal rank over every question (each scored by its fold's choice). */
  crossValidatedMrr: number;
  /** The candidate chosen by the most folds (ties: the best mean training MRR): the one to commit. */
  winner: string;
}

/**
 * The fold (0-based) of each question: questions are joined into groups that share any relevant
 * article, and groups are dealt, largest first, to the fold with the fewest questions so far.
 */
export function foldsByArticle(questions: readonly GoldenQuestion[], folds: number): number[] {
  const parent = questions.map((_, index) => index);
  const root = (index: number): number => {
    let node = index;
    while (parent[node] !== node) node = parent[node] ?? node;
    return node;
  };
  const firstWithLink = new Map<string, number>();
  questions.forEach((question, index) => {
    for (const link of question.relevant_links) {
      const seen = firstWithLink.get(link);
      if (seen === undefined) firstWithLink.set(link, index);
      else parent[root(index)] = root(seen);
    }
  });
  const groups = new Map<number, number[]>();
  questions.forEach((_, index) => {
    const key = root(index);
    groups.set(key, [...(groups.get(key) ?? []), index]);
  });
  const sizes = new Array<number>(folds).fill(0);
  const assignment = new Array<number>(questions.length).fill(0);
  const ordered = [...groups.values()].sort((a, b) => b.length - a.length || (a[0] ?? 0) - (b[0] ?? 0));
  for (const group of ordered) {
    const fold = sizes.indexOf(Math.min(...sizes));
    sizes[fold] = (sizes[fold] ?? 0) + group.length;
    for (const index of group) assignment[index] = fold;
  }
  return assignment;
}

const meanOver = (values: readonly number[], indexes: readonly number[]): number =>
  indexes.length === 0 ? 0 : indexes.reduce((sum, index) => sum + (values[index] ?? 0), 0) / indexes.length;

/** MRRs closer than this are equal (sums of 1/rank over a few dozen questions). */
const EPSILON = 1e-9;

/** The candidate's smallest lead over the best baseline across the folds given (negative: behind). */
function worstMargin(
  candidate: EvaluatedSetting,
  baselines: readonly EvaluatedSetting[],
  folds: readonly (readonly number[])[],
): number {
  if (baselines.length === 0) return 0;
  return Math.min(
    ...folds.map(
      (indexes) =>
        meanOver(candidate.reciprocalRanks, indexes) -
        Math.max(...baselines.map((baseline) => meanOver(baseline.reciprocalRanks, indexes))),
    ),
  );
}

/**
 * Chooses among `candidates` fold by fold, `baselines` setting the bar a candidate must clear on each
 * training fold (without baselines every candidate qualifies). Ties go to the candidate listed first.
 */
export function crossValidate(
  candidates: readonly EvaluatedSetting[],
  baselines: readonly EvaluatedSetting[],
  assignment: readonly number[],
): CrossValidation {
  const foldCount = Math.max(...assignment) + 1;
  const heldOut = new Array<number>(assignment.length).fill(0);
  const results: FoldResult[] = [];
  for (let fold = 0; fold < foldCount; fold++) {
    const inFold = assignment.flatMap((value, index) => (value === fold ? [index] : []));
    const training = assignment.flatMap((value, index) => (value === fold ? [] : [index]));
    const trainingFolds = [...Array(foldCount).keys()]
      .filter((other) => other !== fold)
      .map((other) => assignment.flatMap((value, index) => (value === other ? [index] : [])));
    const scored = candidates.map((candidate) => ({
      candidate,
      mrr: meanOver(candidate.reciprocalRanks, training),
      worstMargin: worstMargin(candidate, baselines, trainingFolds),
    }));
    const qualified = scored.filter((entry) => entry.worstMargin >= -EPSILON);
    const best = (
      qualified.length > 0
        ? qualified.reduce((a, b) => (b.mrr > a.mrr + EPSILON ? b : a))
        : scored.reduce((a, b) => (b.worstMargin > a.worstMargin + EPSILON ? b : a))
    ) as (typeof scored)[number] | undefined;
    if (!best) throw new Error('cross-validation needs at least one candidate');
    for (const index of inFold) heldOut[index] = best.candidate.reciprocalRanks[index] ?? 0;
    results.push({
      fold: fold + 1,
      questions: inFold.length,
      chosen: best.candidate.name,
      qualified: qualified.length > 0,
      trainingMrr: best.mrr,
      heldOutMrr: meanOver(best.candidate.reciprocalRanks, inFold),
      mrrByName: Object.fromEntries(
        [...candidates, ...baselines].map((setting) => [
          setting.name,
          meanOver(setting.reciprocalRanks, inFold),
        ]),
      ),
    });
  }
  const votes = new Map<string, { count: number; training: number }>();
  for (const result of results) {
    const vote = votes.get(result.chosen) ?? { count: 0, training: 0 };
    votes.set(result.chosen, { count: vote.count + 1, training: vote.training + result.trainingMrr });
  }
  const [winner] = [...votes.entries()].sort(
    ([, a], [, b]) => b.count - a.count || b.training / b.count - a.training / a.count,
  )[0] ?? [''];
  return {
    folds: results,
    crossValidatedMrr: meanOver(
      heldOut,
      heldOut.map((_, index) => index),
    ),
    winner,
  };
}

/** Folds where `name` scores below the best of `rivals` on the fold's own questions. */
export function foldsWhereBeaten(
  validation: CrossValidation,
  name: string,
  rivals: readonly string[],
): FoldResult[] {
  return validation.folds.filter((fold) => {
    const own = fold.mrrByName[name] ?? 0;
    return rivals.some((rival) => (fold.mrrByName[rival] ?? 0) > own + 1e-9);
  });
}

export function formatCrossValidation(validation: CrossValidation, columns: readonly string[]): string {
  const width = Math.max(18, ...columns.map((column) => column.length + 1));
  const header = [
    'fold',
    '  n',
    'chosen on the other folds'.padEnd(40),
    'train',
    'held-out',
    ...columns.map((c) => c.padStart(width)),
  ];
  const rows = validation.folds.map((fold) =>
    [
      String(fold.fold).padStart(4),
      String(fold.questions).padStart(3),
      `${fold.chosen}${fold.qualified ? '' : '*'}`.padEnd(40),
      fold.trainingMrr.toFixed(3),
      fold.heldOutMrr.toFixed(3).padStart(8),
      ...columns.map((column) => (fold.mrrByName[column] ?? 0).toFixed(3).padStart(width)),
    ].join(' '),
  );
  return [
    header.join(' '),
    ...rows,
    `Cross-validated MRR (each fold scored by the setting chosen without it): ${validation.crossValidatedMrr.toFixed(3)}`,
    ...(validation.folds.some((fold) => !fold.qualified)
      ? ['* no candidate matched the best baseline on every other fold: the one least behind was chosen']
      : []),
    `Chosen by the most folds: ${validation.winner}`,
  ].join('\n');
}
