import { bootstrapInterval } from '../evaluation/bootstrap.js';

export { bootstrapInterval };

/** The judge's averages for one model (SYSTEM.md §5); null when no verdict could be read. */
export interface JudgeScores {
  accuracy: number | null;
  style: number | null;
}

/** One test row's score (mean of accuracy and style) for the candidate and the approved model. */
export interface PairedScore {
  candidate: number | null;
  baseline: number | null;
}

export interface GatePolicy {
  /** The lower bound of the paired interval must exceed this (APPROVAL_MARGIN). */
  margin: number;
  /** Fewer judged answers than this never pass (TWIN_GATE_MIN_JUDGED). */
  minJudged: number;
  /** More than this share of answers without a verdict never passes. */
  maxMissingShare: number;
}

export interface GateInput {
  smoke: boolean;
  /** Test rows judged (with or without a verdict). */
  samples: number;
  /** Per test row: both models' scores, from the same run and the same judge. */
  paired: readonly PairedScore[];
  /** Whether a model was approved when the candidate was evaluated (it was then judged beside it). */
  approvedExists: boolean;
  /**
   * Per test row: both models' stylometric similarity with the author's profile (the evaluation job's
   * `paired_style`); absent in metrics from before the job measured style.
   */
  pairedStyle?: readonly PairedScore[];
}

export interface GateDecision {
  approve: boolean;
  reason: string;
  /** Candidate answers with a verdict, and without. */
  judged: number;
  missing: number;
  /** Against the approved model: rows both have a verdict for, the mean per-row difference and its 90% interval. */
  comparison?: { pairs: number; meanDifference: number; interval: [number, number] };
  /** The same paired comparison of style similarity with the author (candidate minus approved). */
  styleComparison?: { pairs: number; meanDifference: number; interval: [number, number] };
}

/**
 * The deployment gate. A smoke run never passes, and neither does a candidate with fewer than
 * `minJudged` verdicts or more than `maxMissingShare` missing. The first model passes on that alone.
 * Otherwise the candidate and the approved model were judged on the same rows by the same judge in
 * the same run, and the candidate passes only if the lower bound of a bootstrap 90% confidence
 * interval on the mean per-row difference (candidate minus approved) is above the margin: a win that
 * is not an accident of which rows were drawn.
 */
export function gateDecision(input: GateInput, policy: GatePolicy): GateDecision {
  const judgedRows = input.paired.filter((row) => row.candidate !== null);
  const judged = judgedRows.length;
  const missing = input.samples - judged;
  const reject = (reason: string, extra: Partial<GateDecision> = {}): GateDecision => ({
    approve: false,
    reason,
    judged,
    missing,
    ...extra,
  });
  if (input.smoke) return reject('a smoke run is never deployed');
  const enough = (count: number, missed: number, who: string): string | undefined => {
    if (count < policy.minJudged) {
      return `${who} has ${String(count)} judged answers; the gate needs at least ${String(policy.minJudged)}`;
    }
    const share = input.samples === 0 ? 1 : missed / input.samples;
    if (share > policy.maxMissingShare) {
      return `${who} is missing ${String(missed)} of ${String(input.samples)} verdicts (${percent(share)}); the gate allows ${percent(policy.maxMissingShare)}`;
    }
    return undefined;
  };
  const candidateProblem = enough(judged, missing, 'the candidate');
  if (candidateProblem) return reject(candidateProblem);
  const mean = average(judgedRows.map((row) => row.candidate ?? 0));
  if (!input.approvedExists) {
    return {
      approve: true,
      reason: `first model: mean score ${mean.toFixed(3)} over ${String(judged)} answers`,
      judged,
      missing,
    };
  }

  const pairs = input.paired.filter(
    (row): row is { candidate: number; baseline: number } => row.candidate !== null && row.baseline !== null,
  );
  const baselineJudged = input.paired.filter((row) => row.baseline !== null).length;
  const baselineProblem = enough(baselineJudged, input.samples - baselineJudged, 'the approved model');
  if (baselineProblem) return reject(`${baselineProblem}: the two cannot be compared on these rows`);
  const pairProblem = enough(pairs.length, input.samples - pairs.length, 'the pair of models');
  if (pairProblem) return reject(pairProblem);

  const comparison = pairedDifference(pairs);
  const styleComparison = styleOf(input.pairedStyle ?? []);
  if (styleComparison && styleComparison.interval[1] < -policy.margin) {
    const [low, high] = styleComparison.interval;
    return reject(
      `writes less like the author than the approved model: style similarity ${signed(styleComparison.meanDifference)} over ${String(styleComparison.pairs)} rows, 90% interval [${signed(low)}, ${signed(high)}], wholly below -${String(policy.margin)} (the approval margin)`,
      { comparison, styleComparison },
    );
  }
  const style = styleComparison ? { styleComparison } : {};
  const [low, high] = comparison.interval;
  const summary = `mean difference ${signed(comparison.meanDifference)} over ${String(pairs.length)} rows, 90% interval [${signed(low)}, ${signed(high)}]`;
  return low > policy.margin
    ? {
        approve: true,
        reason: `beats the approved model: ${summary}, above the margin ${String(policy.margin)}`,
        judged,
        missing,
        comparison,
        ...style,
      }
    : reject(
        `does not clearly beat the approved model: ${summary}, not above the margin ${String(policy.margin)}`,
        { comparison, ...style },
      );
}

/** Rows that both models have a score for: the mean candidate-minus-approved difference and its 90% interval. */
function pairedDifference(pairs: readonly { candidate: number; baseline: number }[]) {
  const differences = pairs.map((row) => row.candidate - row.baseline);
  return {
    pairs: pairs.length,
    meanDifference: round(average(differences)),
    interval: bootstrapInterval(differences, 0.9),
  };
}

/**
 * The paired style comparison, when the job measured style for both models on the rows. Style is a
 * guard, not a goal: a candidate is rejected when its interval lies wholly below -margin (it clearly
 * writes less like the author), never for failing to write more like them.
 */
function styleOf(paired: readonly PairedScore[]) {
  const pairs = paired.filter(
    (row): row is { candidate: number; baseline: number } => row.candidate !== null && row.baseline !== null,
  );
  return pairs.length === 0 ? undefined : pairedDifference(pairs);
}

function average(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

const percent = (share: number) => `${(share * 100).toFixed(0)}%`;
const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;
