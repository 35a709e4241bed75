import { fusionName, fusionOf, type Fusion } from '../domain/index.js';
import type { ContextRetriever, RetrievalOptions } from '../rag/retriever.js';
import { ignoreProgress, type ProgressListener } from '../shared/progress.js';
import {
  crossValidate,
  foldsByArticle,
  foldsWhereBeaten,
  formatCrossValidation,
  type CrossValidation,
  type EvaluatedSetting,
  type FoldResult,
} from './cross-validation.js';
import { evaluateRetrieval, type GoldenQuestion, type RetrievalEvaluation } from './retrieval.js';

/**
 * The hybrid fusions cross-validation chooses among: reciprocal rank fusion around the k = 60 of its
 * paper (Cormack et al., 2009), and the convex combination over alpha in steps of 0.1 (the grid of
 * Bruch, Gai and Ingber; 0 and 1 are the single modes, measured as baselines instead).
 */
export const FUSION_GRID: readonly Fusion[] = [
  ...[10, 30, 60, 100].map((k): Fusion => ({ kind: 'rrf', k })),
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((tenths): Fusion => ({ kind: 'convex', alpha: tenths / 10 })),
];

export const SINGLE_MODES = ['dense', 'lexical'] as const;

export interface FusionSelection {
  /** The served hybrid fusion's name (one of the evaluations). */
  served: string;
  /** Every evaluation of the run by name: the single modes and each fusion of the grid (and the served one). */
  evaluations: Record<string, RetrievalEvaluation>;
  validation: CrossValidation;
  /** Folds where the served hybrid scores below the better single mode on the fold's own questions. */
  servedBeatenOn: FoldResult[];
}

/**
 * Evaluates the single modes and every hybrid fusion of the grid (plus the served one, when it is
 * off the grid) with the served retriever, then cross-validates the fusion over folds by source
 * article. Only the labels' ranks are compared: no setting is chosen on the questions it is scored on.
 */
export async function selectFusion(
  retriever: ContextRetriever,
  questions: readonly GoldenQuestion[],
  served: Omit<RetrievalOptions, 'author'>,
  details: { model: string; folds: number },
  onSetting: (name: string) => ProgressListener = () => ignoreProgress,
): Promise<FusionSelection> {
  const servedFusion = fusionOf(served);
  const servedName = fusionName(servedFusion);
  const grid = FUSION_GRID.some((fusion) => fusionName(fusion) === servedName)
    ? FUSION_GRID
    : [...FUSION_GRID, servedFusion];
  const evaluations: Record<string, RetrievalEvaluation> = {};
  for (const mode of SINGLE_MODES) {
    evaluations[mode] = await evaluateRetrieval(
      retriever,
      questions,
      { ...served, mode },
      details,
      onSetting(mode),
    );
  }
  for (const fusion of grid) {
    const name = fusionName(fusion);
    const options =
      fusion.kind === 'rrf'
        ? { ...served, mode: 'hybrid' as const, fusion: 'rrf' as const, fusionK: fusion.k }
        : { ...served, mode: 'hybrid' as const, fusion: 'convex' as const, fusionAlpha: fusion.alpha };
    evaluations[name] = await evaluateRetrieval(retriever, questions, options, details, onSetting(name));
  }
  const setting = (name: string): EvaluatedSetting => ({
    name,
    reciprocalRanks: (evaluations[name]?.questions ?? []).map((question) =>
      question.firstRelevantRank ? 1 / question.firstRelevantRank : 0,
    ),
  });
  const validation = crossValidate(
    grid.map((fusion) => setting(fusionName(fusion))),
    SINGLE_MODES.map(setting),
    foldsByArticle(questions, details.folds),
  );
  return {
    served: servedName,
    evaluations,
    validation,
    servedBeatenOn: foldsWhereBeaten(validation, servedName, SINGLE_MODES),
  };
}

/** The whole-set figures of every setting, then the per-fold table of the cross-validation. */
export function formatFusionSelection(selection: FusionSelection): string {
  const { validation } = selection;
  const rows = Object.entries(selection.evaluations).map(
    ([name, evaluation]) =>
      `${name.padEnd(20)} ${evaluation.overall.mrr.toFixed(3).padStart(6)} ${`${((evaluation.overall.recall[9] ?? 0) * 100).toFixed(1)}%`.padStart(7)}`,
  );
  const columns = [...SINGLE_MODES, selection.served];
  const verdict =
    selection.servedBeatenOn.length === 0
      ? `The served hybrid (${selection.served}) scores at least the better of dense and lexical on every fold.`
      : `The served hybrid (${selection.served}) scores below the better single mode on fold(s) ${selection.servedBeatenOn.map((fold) => String(fold.fold)).join(', ')}.`;
  return [
    'Every setting on the whole set (the floors file holds these for dense, lexical and the served hybrid):',
    `${'setting'.padEnd(20)} ${'MRR'.padStart(6)} ${'R@9'.padStart(7)}`,
    ...rows,
    '',
    `Cross-validation of the hybrid fusion, ${String(validation.folds.length)} folds by source article (no article in two folds):`,
    formatCrossValidation(validation, columns),
    verdict,
  ].join('\n');
}
