import type { DatasetSettings } from '../../lambdas/settings/index.js';

/** Dataset settings for tests: the defaults, with short timeouts and few retries. */
export const TEST_DATASET_SETTINGS: DatasetSettings = {
  model: 'gpt-4o-mini',
  temperature: 0.7,
  maxTokens: 1200,
  concurrency: 4,
  dedupThreshold: 0.8,
  maxFailureRate: 0.1,
  minSamples: 1,
  timeoutMs: 2_000,
  maxRetries: 2,
  pricePerMillionInput: 0.15,
  pricePerMillionOutput: 0.6,
};
