import { mulberry32 } from '../shared/seeded-random.js';

/** Bootstrap resamples: enough for stable 5th and 95th percentiles. */
export const RESAMPLES = 4000;
/** A fixed seed: the same scores always give the same interval. */
const SEED = 0x5eed;

/**
 * The percentile bootstrap interval of any statistic over `count` units (requests, test rows): the
 * statistic of `RESAMPLES` resamples drawn with replacement by a seeded generator, cut at the tails.
 */
export function bootstrapStatistic(
  count: number,
  statistic: (indices: readonly number[]) => number,
  level: number,
): [number, number] {
  if (count === 0) return [0, 0];
  const random = mulberry32(SEED);
  const values = new Float64Array(RESAMPLES);
  const indices = new Array<number>(count);
  for (let resample = 0; resample < RESAMPLES; resample++) {
    for (let i = 0; i < count; i++) indices[i] = Math.floor(random() * count);
    values[resample] = statistic(indices);
  }
  values.sort();
  const tail = (1 - level) / 2;
  const at = (q: number) => values[Math.min(RESAMPLES - 1, Math.max(0, Math.floor(q * RESAMPLES)))] ?? 0;
  return [round(at(tail)), round(at(1 - tail))];
}

/** The percentile bootstrap interval of the mean. */
export function bootstrapInterval(values: readonly number[], level: number): [number, number] {
  return bootstrapStatistic(
    values.length,
    (indices) => mean(indices.map((index) => values[index] ?? 0)),
    level,
  );
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
