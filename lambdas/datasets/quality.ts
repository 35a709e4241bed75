import type { GenerationReport } from './generation.js';
import type { DatasetKind } from './prompts.js';

/**
 * A dataset that must not be written: too many of its LLM requests failed, or too few rows survived
 * curation. Training on it would teach the twin little or nothing, and continuous training would
 * take a new version for progress. The message has the counts and the first errors.
 */
export class DatasetQualityError extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DatasetQualityError';
  }
}

/** Fails a generation whose failed plus malformed requests exceed `maxFailureRate` of all requests. */
export function checkGeneration<K extends DatasetKind>(
  report: GenerationReport<K>,
  maxFailureRate: number,
): void {
  const bad = report.failed + report.malformed;
  if (report.requests > 0 && bad / report.requests <= maxFailureRate) return;
  const rate = report.requests === 0 ? 1 : bad / report.requests;
  const errors = report.failures.slice(0, 3);
  throw new DatasetQualityError(
    `${String(bad)} of ${String(report.requests)} generation requests failed or were malformed ` +
      `(${String(report.failed)} failed, ${String(report.malformed)} malformed: ${(rate * 100).toFixed(0)}%, ` +
      `more than TWIN_DATASET_MAX_FAILURE_RATE=${String(maxFailureRate)}); no dataset was written.` +
      (errors.length > 0 ? ` First errors: ${errors.join(' | ')}` : ''),
    { requests: report.requests, failed: report.failed, malformed: report.malformed, errors },
  );
}

/** Fails a dataset with fewer than `minSamples` rows after curation. */
export function checkSize(rows: { train: number; test: number }, minSamples: number): void {
  if (rows.train + rows.test >= minSamples) return;
  throw new DatasetQualityError(
    `only ${String(rows.train + rows.test)} rows (${String(rows.train)} train, ${String(rows.test)} test) remain after curation, ` +
      `fewer than TWIN_DATASET_MIN_SAMPLES=${String(minSamples)}; no dataset was written. ` +
      'Add writing (twin etl, twin features), or lower the minimum for a smoke run.',
    { ...rows, minSamples },
  );
}
