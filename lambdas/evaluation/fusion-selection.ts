import { fusionName, fusionOf, withFusion, type Fusion } from '../domain/index.js';
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

/** A retriever over a store indexed one way; `label` names a keyword indexing other than the served one. */
export interface IndexingVariant {
  label?: string;
  retriever: ContextRetriever;
}

/** A setting's name under an indexing variant: "convex alpha=0.1 (no stemmer)". */
const underVariant = (name: string, variant: IndexingVariant) =>
  variant.label ? `${name} (${variant.label})` : name;

/**
 * Evaluates the single modes and every hybrid fusion of the grid (plus the served one, when it is
 * off the grid) with the served retriever, and with each other keyword indexing given, then
 * cross-validates the choice among them over folds by source article. The bar each candidate must
 * clear is the served dense and lexical search. Only the labels' ranks are compared: no setting is
 * chosen on the questions it is scored on. The first variant must be the served indexing.
 */
export async function selectFusion(
  variants: readonly IndexingVariant[],
  questions: readonly GoldenQuestion[],
  served: Omit<RetrievalOptions, 'author'>,
  details: { model: string; folds: number },
  onSetting: (name: string) => ProgressListener = () => ignoreProgress,
): Promise<FusionSelection> {
  const [servedVariant] = variants;
  if (!servedVariant || servedVariant.label) throw new Error('the first indexing must be the served one');
  const servedFusion = fusionOf(served);
  const servedName = fusionName(servedFusion);
  const grid = FUSION_GRID.some((fusion) => fusionName(fusion) === servedName)
    ? FUSION_GRID
    : [...FUSION_GRID, servedFusion];
  const evaluations: Record<string, RetrievalEvaluation> = {};
  const evaluate = async (
    name: string,
    variant: IndexingVariant,
    options: Omit<RetrievalOptions, 'author'>,
  ) => {
    const key = underVariant(name, variant);
    evaluations[key] = await evaluateRetrieval(
      variant.retriever,
      questions,
      options,
      details,
      onSetting(key),
    );
    return key;
  };
  // Dense search reads no keyword index: one evaluation serves every variant.
  await evaluate('dense', servedVariant, { ...served, mode: 'dense' });
  const candidates: string[] = [];
  for (const variant of variants) {
    await evaluate('lexical', variant, { ...served, mode: 'lexical' });
    for (const fusion of grid) {
      const options = withFusion({ ...served, mode: 'hybrid' as const }, fusion);
      candidates.push(await evaluate(fusionName(fusion), variant, options));
    }
  }
  const setting = (name: string): EvaluatedSetting => ({
    name,
    reciprocalRanks: (evaluations[name]?.questions ?? []).map((question) =>
      question.firstRelevantRank ? 1 / question.firstRelevantRank : 0,
    ),
  });
  const validation = crossValidate(
    candidates.map(setting),
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
      `${name.padEnd(36)} ${evaluation.overall.mrr.toFixed(3).padStart(6)} ${`${((evaluation.overall.recall[9] ?? 0) * 100).toFixed(1)}%`.padStart(7)}`,
  );
  const columns = [...SINGLE_MODES, selection.served];
  const verdict =
    selection.servedBeatenOn.length === 0
      ? `The served hybrid (${selection.served}) scores at least the better of dense and lexical on every fold.`
      : `The served hybrid (${selection.served}) scores below the better single mode on fold(s) ${selection.servedBeatenOn.map((fold) => String(fold.fold)).join(', ')}.`;
  return [
    'Every setting on the whole set (the floors file holds these for dense, lexical and the served hybrid):',
    `${'setting'.padEnd(36)} ${'MRR'.padStart(6)} ${'R@9'.padStart(7)}`,
    ...rows,
    '',
    `Cross-validation of the hybrid fusion, ${String(validation.folds.length)} folds by source article (no article in two folds):`,
    formatCrossValidation(validation, columns),
    verdict,
  ].join('\n');
}
