/** The judge's averages for one model (SYSTEM.md §5); null when no verdict could be read. */
export interface JudgeScores {
  accuracy: number | null;
  style: number | null;
}

export interface GateDecision {
  approve: boolean;
  reason: string;
}

function average(scores: JudgeScores): number | null {
  return scores.accuracy === null || scores.style === null ? null : (scores.accuracy + scores.style) / 2;
}

/**
 * The deployment gate: a candidate is approved only if the average of its accuracy and style beats
 * the approved model's by more than `margin`. Smoke runs and models without scores never pass.
 */
export function gateDecision(
  candidate: JudgeScores & { smoke: boolean },
  current: JudgeScores | undefined,
  margin: number,
): GateDecision {
  if (candidate.smoke) return { approve: false, reason: 'a smoke run is never deployed' };
  const score = average(candidate);
  if (score === null) return { approve: false, reason: 'the judge gave no usable scores' };
  const format = (value: number) => value.toFixed(3);
  if (!current) return { approve: true, reason: `first model with scores (average ${format(score)})` };
  const baseline = average(current);
  if (baseline === null)
    return { approve: true, reason: `the approved model has no scores; candidate ${format(score)}` };
  return score > baseline + margin
    ? {
        approve: true,
        reason: `average ${format(score)} beats the approved ${format(baseline)} by more than ${String(margin)}`,
      }
    : {
        approve: false,
        reason: `average ${format(score)} does not beat the approved ${format(baseline)} by more than ${String(margin)}`,
      };
}
